"""KYC form recognizers: onboarding forms print a caption per field, so caption anchors do nearly all the work.

Captions are read in the six label languages, and only as whole captions at
the start of a line or of a layout view's column (after an optional item
number), ending at a colon, a dotted leader, a column gap or the line's end:
"Nome" is the given name in "Nome:", not in "Nome e cognome", and "Adresse"
is no home address in "Adresse e-mail". Where a form splits the name into
surname and given names the full name is composed from both. An address runs
on over the lines under its first one while they carry a number (a postcode,
a house number) or name a country, and stops at the next caption.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import partial

from extractors.normalize import normalize_iban, parse_date
from extractors.rules.base import Candidate, LabelRecognizer, PageLike, writes_month_first
from extractors.rules.meaning import caption

__all__ = ["extract_kyc"]

# A caption starts its line or, in a layout view, a column after a gap of three blanks; after an optional item
# number, and on a scan after up to three marks OCR made of a box edge or a speckle ('| Cognome', '© Pass-Nr.').
_START = r"(?:^[ \t]*|(?<=[ \t]{3}))(?:[^\w\s]{1,3}[ \t]*)?(?:\d{1,2}[.)][ \t]*)?"
_END = r"(?=[ \t]*(?:[:.*]|$)|[ \t]{2,})"  # ... and ends at its colon, a leader, the line's end or a column gap


def _caption(*captions: str) -> str:
    """A label regex matching any of ``captions`` as a whole caption (see the module docstring)."""
    return _START + "(?:" + "|".join(captions) + ")" + _END


def _text(raw: str) -> str | None:
    value = " ".join(raw.split()).strip(" ,;:")
    return value or None


def _birth_date(raw: str, *, month_first: bool = False) -> str | None:
    """ISO date; a two-digit year that would put the birth in the future is the previous century's."""
    parsed = parse_date(raw, month_first=month_first)
    if parsed is None:
        return None
    if parsed > date.today():
        try:
            parsed = parsed.replace(year=parsed.year - 100)
        except ValueError:  # 29 February of a century year that was no leap year
            return None
    return parsed.isoformat()


def _iban(raw: str) -> str | None:
    """Kept even with a bad checksum: validation must see it to report IBAN_CHECKSUM."""
    value = normalize_iban(raw)
    return value if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", value) else None


def _email(raw: str) -> str | None:
    """The address without the blanks OCR put beside its '@'."""
    return raw.replace(" ", "") or None


def _phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    return " ".join(raw.split()) if 7 <= len(digits) <= 15 else None


_LINE = r"[^\n]{2,120}?(?=[ \t]{3}|\n|$)"  # a caption's text value, up to a column gap (a layout view's next column)
_FULL_NAME = LabelRecognizer(
    "full_name",
    {
        _caption(
            r"full +name",
            r"name +of +(?:the +)?applicant",
            r"vollst[äa]ndiger +name",
            r"vor- +und +nachname",
            r"nom +complet",
            r"nom +et +pr[ée]noms?",
            r"pr[ée]noms? +et +nom",
            r"volledige +naam",
            r"voor- +en +achternaam",
            r"nome +e +cognome",
            r"nome +completo",
            r"nombre +completo",
            r"nombre +y +apellidos",
        ): 1.0,
        _caption("name", "naam", "nom"): 0.8,
    },
    _LINE,
    _text,
    allow_before=False,
)
_SURNAME = LabelRecognizer(
    "surname",
    {
        _caption(
            "surname",
            r"last +name",
            r"family +name",
            "nachname",
            "familienname",
            r"nom +de +famille",
            r"nom +d['’]usage",
            "achternaam",
            "geslachtsnaam",
            "cognome",
            "apellidos?",
            r"primer +apellido",
        ): 1.0,
        _caption("name", "nom", "naam"): 0.8,  # beside a given-name caption, the plain "Name" is the surname
    },
    _LINE,
    _text,
    allow_before=False,
)
_GIVEN_NAMES = LabelRecognizer(
    "given_names",
    {
        _caption(
            r"first +name",
            r"given +names?(?:\(s\))?",
            r"forenames?",
            r"vornamen?(?:\(n\))?",
            r"pr[ée]noms?(?:\(s\))?",
            "voorna(?:am|men)",
            r"nome(?:/i)?",
            r"nombre(?:\(s\))?",
        ): 1.0
    },
    _LINE,
    _text,
    allow_before=False,
)
_ADDRESS = LabelRecognizer(
    "address",
    {
        _caption(
            r"(?:residential|home|postal|permanent) +address",
            "address",
            "(?:wohn)?anschrift",
            "adresse(?: +de +r[ée]sidence)?",
            "domicile",
            "(?:woon)?adres",
            "indirizzo(?: +di +residenza)?",
            "residenza",
            r"direcci[óo]n",
            "domicilio",
            "wohnort",
        ): 0.9
    },
    _LINE,
    _text,
    allow_before=False,
)
_DATE_OF_BIRTH = LabelRecognizer(
    "date_of_birth",
    {
        _caption(
            r"date +of +birth",
            r"birth +date",
            "dob",
            r"born +on",
            "geburtsdatum",
            r"geboren +(?:am|op)",
            r"date +de +naissance",
            r"n[ée](?:\(e\))? +le",
            "geboortedatum",
            r"data +di +nascita",
            r"nat[oa](?:/a)? +il",
            r"fecha +de +nacimiento",
            r"nacid[oa](?:/a)? +el",
        ): 1.0
    },
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|\d{1,2}\.? *[A-Za-zÀ-ÿ]{3,}\.? *\d{4}"
    r"|[A-Za-zÀ-ÿ]{3,}\.? +\d{1,2},? +\d{4}",
    _birth_date,
    allow_before=False,
)
_RECOGNIZERS = (
    LabelRecognizer(
        "email",
        {
            _caption(
                r"e-?mail(?:[ -]?(?:address|adresse|adres))?",
                "courriel",
                r"adresse +e-?mail",
                r"indirizzo +e-?mail",
                r"correo(?: +electr[óo]nico)?",
            ): 1.0
        },
        r"[\w.+-]+ ?@ ?[\w-]+(?:\.[\w-]+)+",  # OCR puts a blank beside the '@' ('mhoes @example.net')
        _email,
    ),
    LabelRecognizer(
        "phone",
        {
            _caption(
                r"(?:tele)?phone(?: +number)?",
                r"mobile?(?: +(?:phone|number))?",
                r"telefon(?:nummer)?",
                "handy",
                r"t[ée]l[ée]phone",
                "portable",
                "telefoon(?:nummer)?",
                "mobiel",
                "telefono",
                "cellulare",
                r"tel[ée]fono",
                r"m[óo]vil",
                r"tel\.?",
            ): 0.95
        },
        r"\+?[\d(][\d ()/.\-]{6,20}\d",
        _phone,
    ),
    LabelRecognizer(
        "passport_number",
        {
            _caption(
                r"passport(?: +(?:number|no\.?|nr\.?))?",
                r"reisepass(?:nummer)?",
                r"pass-?nr\.?",
                r"(?:num[ée]ro +de +|n[°º] +de +)?passeport",
                r"paspoort(?:nummer)?",
                r"(?:numero +)?passaporto(?: +n\.?)?",
                r"(?:n[úu]mero +de +)?pasaporte(?: +n[º°.]?)?",
            ): 1.0
        },
        r"[A-Z0-9]{6,12}",
        _text,
    ),
    LabelRecognizer(
        "national_id",
        {
            r"national +id(?:entity)?(?: +(?:number|no\.?))?|personalausweis(?:nummer)?|id +card +(?:number|no\.?)"
            r"|social +security +(?:number|no\.?)|ssn|tax +id|national +insurance(?: +number)?|\bni +number": 1.0,
            r"\bbsn\b|burgerservicenummer|steuer-?id(?:entifikationsnummer)?|steuerliche +identifikationsnummer"
            r"|\bidnr\b|codice +fiscale|\bdni\b|\bnie\b|\bnif\b|\bnir\b|s[ée]curit[ée] +sociale"
            r"|rijksregisternummer|registre +national|\bpesel\b|personnummer": 1.0,
            _caption(
                "identifikationsnummer",
                "ausweisnummer",
                r"(?:n[°º]|num[ée]ro) +d['’]identification",
                "identificatienummer",
                r"numero +identificativo",
                r"n[úu]mero +de +identificaci[óo]n",
                r"(?:n[úu]mero|n[°º.]) +(?:de +|del +)?(?:dni|nie|nif)",
            ): 1.0,
        },
        r"[A-Z0-9][A-Z0-9 \-]{4,24}[A-Z0-9]",  # up to a spaced French NIR: '2 95 10 99 126 111 93'
        _text,
        allow_before=False,
    ),
    LabelRecognizer("iban", {r"iban": 1.0}, r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}", _iban),
)


# What a national id's caption says it is: the python-stdnum module that checks it, or "none" for identity-document
# numbers without a public check-digit scheme (ID cards, the UK's National Insurance number), then not checked.
_SCHEME_BY_LABEL = {
    r"steuer-?id|steuerliche +identifikationsnummer|steueridentifikationsnummer|\bidnr\b": "de.idnr",
    r"\bbsn\b|burgerservice": "nl.bsn",
    r"social +security|\bssn\b": "us.ssn",
    r"\bnir\b|s[ée]curit[ée] +sociale|\binsee\b": "fr.nir",
    r"codice +fiscale": "it.codicefiscale",
    r"\bnie\b|identidad +de +extranjero": "es.nie",
    r"\bdni\b|documento +nacional|\bnif\b": "es.dni",
    r"rijksregister|registre +national|num[ée]ro +national": "be.nn",
    r"\bpesel\b": "pl.pesel",
    r"personnummer": "se.personnummer",
    r"ausweis|id[ -]?card|identity +card|carte +d['’]identit[ée]|identiteitskaart": "none",
    r"carta +d['’]identit[àa]|documento +de +identidad|national +insurance|\bni +number": "none",
}
# A national id under a generic caption ("National ID") is the one of the country the document names, when only one;
# a country whose usual id has no public check digits ("none") leaves it unchecked.
_SCHEME_BY_COUNTRY = {
    r"germany|deutschland": "de.idnr",
    r"netherlands|nederland": "nl.bsn",
    r"united +states|\busa\b": "us.ssn",
    r"france\b": "fr.nir",
    r"italy|italia\b": "it.codicefiscale",
    r"spain|espa[ñn]a": "es.dni",
    r"belgium|belgi[eëq]": "be.nn",
    r"poland|polska": "pl.pesel",
    r"sweden|sverige": "se.personnummer",
    r"united +kingdom|great +britain|\bengland\b|scotland": "none",
}
_COUNTRY = re.compile("|".join(_SCHEME_BY_COUNTRY), re.IGNORECASE)
_CAPTIONED = re.compile(r":|\.{3}|[ \t]{3}")  # a line with a caption of its own: not an address's continuation


def _scheme(pages: Sequence[PageLike], national_id: Candidate) -> Candidate:
    """The scheme ``national_id`` is to be checked under, from its caption, else from the one country named, else
    "default" (the installation's). Always given with the id, so the router never asks a model for it alone."""
    page = next((page for page in pages if page.number == national_id.page), None)
    label = caption(page, national_id.span) if page is not None else ""
    for pattern, scheme in _SCHEME_BY_LABEL.items():
        if re.search(pattern, label, re.IGNORECASE):
            return Candidate(national_id.confidence, scheme, national_id.page, national_id.span)
    text = "\n".join(page.text for page in pages)
    named = {scheme for pattern, scheme in _SCHEME_BY_COUNTRY.items() if re.search(pattern, text, re.IGNORECASE)}
    scheme = named.pop() if len(named) == 1 else "default"
    return Candidate(national_id.confidence, scheme, national_id.page, national_id.span)


def _full_name(pages: Sequence[PageLike]) -> Candidate | None:
    """The full name: composed as "given surname" where the form captions the two apart, else its own caption."""
    surname, given = _SURNAME.find(pages), _GIVEN_NAMES.find(pages)
    if surname is None or given is None or surname.page != given.page:
        return _FULL_NAME.find(pages)
    span = (min(surname.span[0], given.span[0]), max(surname.span[1], given.span[1]))
    return Candidate(min(surname.confidence, given.confidence), f"{given.value} {surname.value}", given.page, span)


def _address(pages: Sequence[PageLike]) -> Candidate | None:
    """The address's first line, run on over the next lines (at most two) that carry a digit or name a country and
    no caption of their own: the postcode and town line, the country line. In a layout view only the address's
    column of those lines counts (``_in_column``)."""
    first = _ADDRESS.find(pages)
    if first is None:
        return None
    text = next(page for page in pages if page.number == first.page).text
    line_start = text.rfind("\n", 0, first.span[0]) + 1
    column = first.span[0] - line_start
    before = text[line_start : first.span[0]].rstrip(" \t.:")  # the caption, on the value's line
    caption_column = max((gap.end() for gap in re.finditer(r"[ \t]{3,}", before)), default=0) if before else column
    parts, end = [text[first.span[0] : first.span[1]]], first.span[1]
    for _ in range(2):
        newline = text.find("\n", end)
        if newline < 0 or not re.fullmatch(r"[ \t]*|[ \t]{3}.*", text[end:newline]):  # blank, or another column
            break
        line_end = text.find("\n", newline + 1)
        line = text[newline + 1 : len(text) if line_end < 0 else line_end]
        found = _in_column(line, caption_column, column)
        if found is None:
            break
        offset, part = found
        if _CAPTIONED.search(part) or not (re.search(r"\d", part) or _COUNTRY.search(part)):
            break
        parts.append(part)
        end = newline + 1 + offset + len(part)
    if len(parts) == 1:
        return first
    value = ", ".join(part.strip(" ,") for part in parts if part.strip(" ,"))
    return Candidate(first.confidence, value, first.page, (first.span[0], end))


def _in_column(line: str, caption_column: int, column: int) -> tuple[int, str] | None:
    """Where in ``line`` the value column that starts at ``column`` has text, and that text: the whole line where it
    has no column gap (a plain reading); else the text after the gap that ends there (in the first column, before
    the first gap), provided the caption's column beside it is blank (a caption there starts another field);
    ``None`` where nothing of the line stands in that column."""
    gaps = [match.end() for match in re.finditer(r"^[ \t]+|[ \t]{3,}", line)]
    if not gaps:
        stripped = line.strip()
        return (line.index(stripped), stripped) if stripped else None
    starts = [0] if column <= 2 else [gap for gap in gaps if abs(gap - column) <= 2]
    if not starts or line[caption_column : starts[0]].strip():
        return None
    offset = starts[0] + len(line[starts[0] :]) - len(line[starts[0] :].lstrip())
    part = re.split(r"[ \t]{3,}", line[offset:], maxsplit=1)[0].rstrip()
    return (offset, part) if part else None


def extract_kyc(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    found: dict[str, Candidate | None] = {recognizer.field_name: recognizer.find(pages) for recognizer in _RECOGNIZERS}
    found["full_name"] = _full_name(pages)
    birth = partial(_birth_date, month_first=writes_month_first(pages))
    found["date_of_birth"] = replace(_DATE_OF_BIRTH, normalize=birth).find(pages)
    found["address"] = _address(pages)
    if (national_id := found["national_id"]) is not None:
        found["national_id_scheme"] = _scheme(pages, national_id)
    return {name: candidate for name, candidate in found.items() if candidate is not None}
