"""Every span of a page that could be a field's value, with the text around it.

The model tier does not guess values: it ranks what is printed. A candidate
is a span that parses as a date, an amount, an identifier or a currency;
its context (the words left and right of it on its line, the lines above
and below) is what the features read. Party blocks (a name line, its street,
its postcode and town) are read line by line and, where a layout strings a
block onto one line ("Acme GmbH - Main St 1 - 12345 Town", a letterhead or
footer), part by part: every part that could be a name is a ``party``
candidate, every run of two or three lines or parts that ends in a postcode
line is an ``address`` candidate. Values are normalised the same way the rules tier
normalises, so a candidate can be compared with the truth and with the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from extractors.model.lexicon import CONCEPTS
from extractors.normalize import currency_code, parse_amount, parse_date, party_name
from extractors.rules import PageLike

__all__ = ["FIELD_KINDS", "KINDS", "Candidate", "candidates", "fold"]

KINDS = ("date", "amount", "id", "currency", "party", "address")
# the fields the model reads, and which kind of candidate each one is
FIELD_KINDS = {
    "invoice_number": "id",
    "issue_date": "date",
    "due_date": "date",
    "net_total": "amount",
    "tax_total": "amount",
    "grand_total": "amount",
    "currency": "currency",
    "seller_name": "party",
    "buyer_name": "party",
    "seller_address": "address",
}

_MONTH = r"[A-Za-zÀ-ÿ]{3,}\.?"
_DATE = re.compile(
    r"(?<![\d.,/-])(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}"
    rf"|\d{{1,2}}\.?\s?{_MONTH}\s\d{{4}}|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}})(?![\d.,]\d)"
)
# An amount, by whether the document may group a thousand's digits with a space ('1 234,56'; ``_groups_with_spaces``)
_AMOUNT = {
    spaced: re.compile(
        rf"(?<![\w.,/-])[-−]?\s?(?:\d{{1,3}}(?:[.,'’{' ' if spaced else ''}]\d{{3}})+|\d+)[.,]\d{{2}}(?![\d.,]\d|\d)-?"
    )
    for spaced in (True, False)
}
# an amount of a thousand or more printed without spaces between its digit groups: '1.234,56', '1,234.56', '1234,56'
_UNSPACED_THOUSANDS = re.compile(
    r"(?<![\d.,'’])(?<!\d )"
    r"(?:\d{1,3}(?:[.'’]\d{3})+,\d{2}|\d{1,3}(?:[,'’]\d{3})+\.\d{2}|[1-9]\d{3,}[.,]\d{2})"
    r"(?![\d.,]\d|\d)"
)
_TOKEN = re.compile(r"[^\s:;,()\[\]]+")
_CURRENCY = re.compile(r"(?<![A-Za-z])(?:EUR|USD|GBP|CHF|SEK|DKK|NOK|PLN|CZK|HUF|JPY|CAD|INR)(?![A-Za-z])|[€$£]")
_US_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/\d{4}")
# what strings a party block onto one line: a dash, bar, middle dot or bullet between spaces, or a column gap; on a
# scan also what OCR makes of a middle dot or a dash ('~', '+', '_', '«', '»', '*')
_PARTS = {
    False: re.compile(r"\s+[-–—|·•]\s+|\s{3,}"),
    True: re.compile(r"\s+[-–—|·•~+_«»*]\s+|\s{3,}"),
}
# Where OCR dropped those separators ('Fischer Ruppertgasse 710 05473 Forst'), a street starts at its house number
# ('Flat 9 …', '10, boulevard …') or at a word naming a street: a street type, or a German or Dutch street suffix
_HOUSE_NUMBER = re.compile(r"\d{1,4}[a-zA-Z]?(?:[/-]\d{1,4})?,?|[^\W\d_]+[a-zß]\d{1,4}")  # '9-3', '12a', 'Hofweg5'
_STREET_WORD = re.compile(
    r"(?:rue|avenue|boulevard|chemin|place|impasse|quai|route|cours|passage|via|viale|piazza|piazzale|corso"
    r"|largo|vicolo|strada|borgo|contrada|calle|avenida|plaza|paseo|camino|carretera|ronda|pasaje|pasadizo|alameda"
    r"|urbanizacion|travesia|glorieta|rambla|cuesta|callejon|flat|studio|apartment|suite|unit)"
    r"|[\w-]*(?:strasse|straße|str\.|gasse|weg|allee|platz|ring|damm|ufer|laan|straat|plein|gracht|kade|singel|dreef"
    r"|dijk)\d{0,4}"
)
_LEGAL_FORMS = frozenset(form.replace(".", "") for form in CONCEPTS["legal_form"])
_POSTCODE = re.compile(r"\b(?:\d{4,5}|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b")
_POSTCODE_TOWN = re.compile(rf"(?<=\s)(?:{_POSTCODE.pattern})\s+[^\W\d_]")


@dataclass(frozen=True)
class Candidate:
    """One printed value and where it sits: page/line indices, its span in the page text, the text around it."""

    kind: str
    value: str
    raw: str
    page: int  # page number (1-based), as ``PageLike.number``
    page_index: int
    pages: int
    line: int
    lines: int
    span: tuple[int, int]
    line_text: str
    left: str  # folded, on the same line before the span
    right: str  # folded, on the same line after it
    above: tuple[str, str]  # folded: the previous two non-empty lines, nearest first
    below: tuple[str, str] = ("", "")  # folded: the next two non-empty lines, nearest first
    part: int = 0  # 1-based index of the part of a line strung with separators (0: the whole line)
    parts: int = 1  # how many parts that line has


class _Marks(dict[int, int | None]):
    """For ``str.translate``: a combining mark's code point maps to None (dropped), any other to itself; each is
    looked up once (``unicodedata.combining`` per character was most of ``fold``'s time)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_MARKS = _Marks()


def fold(text: str) -> str:
    """Lower case without accents, as the label lexicons are written (ASCII text: its lower case, the same thing)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_MARKS)


def candidates(pages: Sequence[PageLike]) -> list[Candidate]:
    """All candidates of every kind on every page, in reading order."""
    month_first = _writes_us_dates(pages)
    spaced = _groups_with_spaces(pages)
    found: list[Candidate] = []
    for index, page in enumerate(pages):
        lines = page.text.split("\n")
        above, below = _neighbours(lines)
        scanned = getattr(page, "source", "text") == "ocr"
        offset = 0
        for number, line in enumerate(lines):
            here = Candidate(
                kind="",
                value="",
                raw="",
                page=page.number,
                page_index=index,
                pages=len(pages),
                line=number,
                lines=len(lines),
                span=(0, 0),
                line_text=line,
                left="",
                right="",
                above=above[number],
                below=below[number],
            )
            spans = [(*span, 0, 1) for span in _spans(line, month_first, spaced)]
            spans += _party_parts(line, scanned) + _address_runs(lines, number, scanned)
            for kind, start, end, value, part, parts in spans:
                found.append(
                    replace(
                        here,
                        kind=kind,
                        value=value,
                        raw=line[start:end] if end <= len(line) else value,
                        span=(offset + start, offset + end),
                        left=fold(line[:start])[-48:],
                        right=fold(line[end:])[:32],
                        part=part,
                        parts=parts,
                    )
                )
            offset += len(line) + 1
    return found


def _neighbours(lines: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Per line: the two nearest non-empty lines above it and below it, folded, nearest first."""
    folded = [fold(line.strip())[:64] for line in lines]

    def nearest(order: range) -> dict[int, tuple[str, str]]:
        seen: list[str] = []
        result = {}
        for number in order:
            result[number] = (seen[-1] if seen else "", seen[-2] if len(seen) > 1 else "")
            if folded[number]:
                seen.append(folded[number])
        return result

    up, down = nearest(range(len(lines))), nearest(range(len(lines) - 1, -1, -1))
    return [up[n] for n in range(len(lines))], [down[n] for n in range(len(lines))]


def _split(line: str, scanned: bool) -> list[tuple[int, int]]:
    """(start, end) of each part of a line strung with separators; one part when there are none.

    On a scan, a part strung without them is cut where its street starts and where its postcode does
    (``_unstrung``), so its name and its address are parts as if the separators had been read."""
    bounds, start = [], 0
    for gap in _PARTS[scanned].finditer(line):
        bounds.append((start, gap.start()))
        start = gap.end()
    bounds.append((start, len(line)))
    parts = [(a + len(line[a:b]) - len(line[a:b].lstrip()), b) for a, b in bounds if line[a:b].strip()]
    return [piece for a, b in parts for piece in _unstrung(line, a, b)] if scanned else parts


def _unstrung(line: str, start: int, end: int) -> list[tuple[int, int]]:
    """A part ``[name] street number [postcode town]`` cut into its name, its street and its postcode and town.

    Only where a postcode and town follow a house number, in this part or later on the line: a part like
    'Seite 1' stays whole. Where the name ends is ``_street_start``'s answer."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", line[start:end])]
    tokens = [line[a:b] for a, b in words]
    number = next((i for i, token in enumerate(tokens) if i and _HOUSE_NUMBER.fullmatch(token)), None)
    postcode = None if number is None else _POSTCODE_TOWN.search(line, words[number][1])
    if number is None or postcode is None:
        return [(start, end)]
    pieces = [(start, end)]
    if postcode.start() < end:
        pieces = [(start, len(line[: postcode.start()].rstrip(" ,"))), (postcode.start(), end)]
    named = any(c.isalpha() for c in line[words[number][1] : postcode.start()])  # '214 Terry Radial E4H 4RA'
    if cut := _street_start(tokens, number, named):
        pieces[:1] = [(start, words[cut - 1][1]), (words[cut][0], pieces[0][1])]
    return pieces


def _street_start(tokens: list[str], number: int, named: bool) -> int | None:
    """The index of the token a street starts at, in tokens with a house number at ``number``; None: no name.

    The name ends after its last legal form ('Ebert AG & Co. KG Emmy-Conradi-Platz 3'), else the street starts at
    the last street word just before the number ('Fischer Ruppertgasse 710'), else at the number where a street's
    name follows it (``named``: 'Young and Nolan 214 Terry Radial'). A part that starts with a street has no name."""
    if _street_word(tokens[0]):
        return None
    forms = [i for i in range(number) if fold(tokens[i]).strip(".,").replace(".", "") in _LEGAL_FORMS]
    streets = [i for i in range(max(1, number - 4), number) if _street_word(tokens[i])]
    return forms[-1] + 1 if forms else streets[-1] if streets else number if named else None


def _street_word(token: str) -> bool:
    """A word that names a street ('Ruppertgasse', 'rue', 'Calle'), read without accents or a trailing comma."""
    return bool(_STREET_WORD.fullmatch(fold(token).strip(",")))


def _party_parts(line: str, scanned: bool) -> list[tuple[str, int, int, str, int, int]]:
    """The line as a party name (after a caption's colon), and, if strung with separators, each part of it.

    On a page read by OCR a name loses the specks at its edges (``normalize.party_name``: '‘Gehringer GbR -'). Not
    on a text layer: every line is a party candidate, and 'Facture n°' cut to 'Facture n' is another feature."""
    found = []
    if whole := _party(line, scanned):
        found.append(("party", *whole, 0, 1))
    bounds = _split(line, scanned)
    if len(bounds) > 1:
        for part, (start, end) in enumerate(bounds, start=1):
            if named := _party(line[start:end], scanned):
                found.append(("party", start + named[0], start + named[1], named[2], part, len(bounds)))
    return found


def _address_like(text: str) -> bool:
    """A street or town line: letters, no caption colon, not mostly digits."""
    text = text.strip()
    letters = sum(c.isalpha() for c in text)
    return 3 <= len(text) <= 70 and letters >= 3 and ":" not in text and sum(c.isdigit() for c in text) <= letters


def _address_runs(lines: list[str], number: int, scanned: bool) -> list[tuple[str, int, int, str, int, int]]:
    """Addresses that start on this line: two or three lines (or parts of it) ending in a postcode line.

    Offsets are relative to the line's start, so a run over several lines ends past the line's own end."""
    found = []
    run = [lines[number]]
    end = len(lines[number])
    for following in lines[number + 1 : number + 3]:
        if not all(_address_like(text) and not _split(text, scanned)[1:] for text in run):
            break
        end += 1 + len(following)
        run.append(following)
        if _address_like(following) and _POSTCODE.search(following):
            lead = len(run[0]) - len(run[0].lstrip())
            found.append(("address", lead, end, ", ".join(" ".join(t.split()) for t in run), 0, 1))
    bounds = _split(lines[number], scanned)
    for first in range(len(bounds)):
        for last in range(first + 1, min(first + 3, len(bounds))):
            texts = [lines[number][a:b] for a, b in bounds[first : last + 1]]
            if all(_address_like(text) for text in texts) and _POSTCODE.search(texts[-1]):
                value = ", ".join(" ".join(t.split()) for t in texts)
                found.append(("address", bounds[first][0], bounds[last][1], value, first + 1, len(bounds)))
    return found


def _spans(line: str, month_first: bool, spaced: bool) -> list[tuple[str, int, int, str]]:
    spans: list[tuple[str, int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for match in _DATE.finditer(line):
        parsed = parse_date(match.group(), month_first=month_first)
        if parsed is not None and 1990 <= parsed.year <= 2099:
            spans.append(("date", match.start(), match.end(), parsed.isoformat()))
            taken.append(match.span())
    for match in _AMOUNT[spaced].finditer(line):
        if _overlaps(match.span(), taken):
            continue
        amount = parse_amount(match.group())
        if amount is not None:
            start = match.start() + (len(match.group()) - len(match.group().lstrip()))
            spans.append(("amount", start, match.end(), str(amount)))
            taken.append(match.span())
    for match in _CURRENCY.finditer(line):
        code = currency_code(match.group())
        if code:
            spans.append(("currency", match.start(), match.end(), code))
    for match in _TOKEN.finditer(line):
        token = match.group().strip(".#")
        if 3 <= len(token) <= 30 and any(c.isdigit() for c in token) and not _overlaps(match.span(), taken):
            start = match.start() + match.group().find(token)
            spans.append(("id", start, start + len(token), _reference(token)))
    return spans


def _party(line: str, scanned: bool) -> tuple[int, int, str] | None:
    """A line (or the part after its caption's colon) that could name a party: letters, few digits."""
    start = line.rfind(":") + 1 if ":" in line else 0
    text = party_name(line[start:]) if scanned else line[start:].strip()
    letters = sum(c.isalpha() for c in text)
    if not 3 <= len(text) <= 70 or letters < 3 or sum(c.isdigit() for c in text) > len(text) // 5:
        return None
    start = line.index(text, start)
    return start, start + len(text), " ".join(text.split())


def _reference(token: str) -> str:
    return re.sub(r"\s+", "", token).lstrip("#").upper()


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _writes_us_dates(pages: Sequence[PageLike]) -> bool:
    """A document that prints 03/20/2024 anywhere writes month first throughout (one evidence is enough)."""
    for page in pages:
        for match in _US_DATE.finditer(page.text):
            if int(match.group(2)) > 12 >= int(match.group(1)):
                return True
    return False


def _groups_with_spaces(pages: Sequence[PageLike]) -> bool:
    """Whether '4 349,19' may be one amount: not in a document that prints its thousands another way ('3.662,79',
    '3662,79'). There the space is a gap between two cells, a quantity and a price, which OCR (and a text layer
    joining a table row's cells) strings together; read as one amount, it outgrows the grand total."""
    return not any(_UNSPACED_THOUSANDS.search(page.text) for page in pages)
