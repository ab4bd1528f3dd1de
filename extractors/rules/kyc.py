"""KYC form recognizers: onboarding forms print a caption per field, so label anchors do nearly all the work."""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractors.normalize import normalize_iban, parse_date
from extractors.rules.base import Candidate, LabelRecognizer, PageLike
from extractors.rules.meaning import caption

__all__ = ["extract_kyc"]


def _text(raw: str) -> str | None:
    value = " ".join(raw.split()).strip(" ,;:")
    return value or None


def _iso_date(raw: str) -> str | None:
    parsed = parse_date(raw)
    return parsed.isoformat() if parsed else None


def _iban(raw: str) -> str | None:
    """Kept even with a bad checksum: validation must see it to report IBAN_CHECKSUM."""
    value = normalize_iban(raw)
    return value if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", value) else None


def _phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    return " ".join(raw.split()) if 7 <= len(digits) <= 15 else None


_LINE = r"[^\n]{2,120}"
_RECOGNIZERS = (
    LabelRecognizer(
        "full_name",
        {
            r"full +name|name +of +(?:the +)?applicant|vollständiger +name|nom +complet": 1.0,
            r"^ *name\b|\bnom\b|\bname\b": 0.8,
        },
        _LINE,
        _text,
        allow_before=False,
    ),
    LabelRecognizer(
        "date_of_birth",
        {r"date +of +birth|geburtsdatum|date +de +naissance|\bdob\b|born +on": 1.0},
        r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|\d{1,2}\.? *[A-Za-zÀ-ÿ]{3,}\.? *\d{4}",
        _iso_date,
        allow_before=False,
    ),
    LabelRecognizer(
        "address",
        {r"(?:residential|home|postal)? *address|anschrift|adresse|wohnort": 0.9},
        _LINE,
        _text,
        allow_before=False,
    ),
    LabelRecognizer(
        "email",
        {r"e-?mail(?: +address)?|courriel": 1.0},
        r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
        _text,
    ),
    LabelRecognizer(
        "phone",
        {r"phone|telephone|telefon|téléphone|mobile|handy|tel\.?": 0.95},
        r"\+?[\d(][\d ()/.\-]{6,20}\d",
        _phone,
    ),
    LabelRecognizer(
        "passport_number",
        {r"passport *(?:number|no\.?|nr\.?)?|reisepass(?:nummer)?|passeport|pass-?nr\.?": 1.0},
        r"[A-Z0-9]{6,12}",
        _text,
    ),
    LabelRecognizer(
        "national_id",
        {
            r"national +id(?:entity)?(?: +(?:number|no\.?))?|personalausweis(?:nummer)?|id +card +(?:number|no\.?)"
            r"|social +security +(?:number|no\.?)|ssn|tax +id": 1.0,
            r"\bbsn\b|burgerservicenummer|steuer-?id(?:entifikationsnummer)?|steuerliche +identifikationsnummer"
            r"|\bidnr\b|codice +fiscale|\bdni\b|\bnie\b|\bnif\b|\bnir\b|s[ée]curit[ée] +sociale"
            r"|rijksregisternummer|registre +national|\bpesel\b|personnummer": 1.0,
        },
        r"[A-Z0-9][A-Z0-9 \-]{4,24}[A-Z0-9]",  # up to a spaced French NIR: '2 95 10 99 126 111 93'
        _text,
    ),
    LabelRecognizer("iban", {r"iban": 1.0}, r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}", _iban),
)


# What a national id's caption says it is: the python-stdnum module that checks it, or "none" for identity-document
# numbers without a public check-digit scheme (ID cards), which are then not checked at all.
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
    r"personalausweis|id[ -]?card|identity +card|carte +d['’]identit[ée]|identiteitskaart": "none",
    r"carta +d['’]identit[àa]|documento +de +identidad": "none",
}
# A national id under a generic caption ("National ID") is the one of the country the document names, when only one.
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
}


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


def extract_kyc(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    found: dict[str, Candidate | None] = {recognizer.field_name: recognizer.find(pages) for recognizer in _RECOGNIZERS}
    if (national_id := found["national_id"]) is not None:
        found["national_id_scheme"] = _scheme(pages, national_id)
    return {name: candidate for name, candidate in found.items() if candidate is not None}
