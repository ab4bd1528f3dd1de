"""Every span of a page that could be a field's value, with the text around it.

The model tier does not guess values: it ranks what is printed. A candidate
is a span that parses as a date, an amount, an identifier or a currency;
its context (the words left and right of it on its line, the lines above)
is what the features read. Values are normalised the same way the rules tier
normalises, so a candidate can be compared with the truth and with the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from extractors.normalize import currency_code, parse_amount, parse_date
from extractors.rules import PageLike

__all__ = ["FIELD_KINDS", "KINDS", "Candidate", "candidates", "fold"]

KINDS = ("date", "amount", "id", "currency", "party")
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
}

_MONTH = r"[A-Za-zÀ-ÿ]{3,}\.?"
_DATE = re.compile(
    r"(?<![\d.,/-])(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}"
    rf"|\d{{1,2}}\.?\s?{_MONTH}\s\d{{4}}|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}})(?![\d.,]\d)"
)
_AMOUNT = re.compile(r"(?<![\w.,/-])[-−]?\s?(?:\d{1,3}(?:[.,'’ ]\d{3})+|\d+)[.,]\d{2}(?![\d.,]\d|\d)-?")
_TOKEN = re.compile(r"[^\s:;,()\[\]]+")
_CURRENCY = re.compile(r"(?<![A-Za-z])(?:EUR|USD|GBP|CHF|SEK|DKK|NOK|PLN|CZK|HUF|JPY|CAD|INR)(?![A-Za-z])|[€$£]")
_US_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/\d{4}")


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


def fold(text: str) -> str:
    """Lower case without accents, as the label lexicons are written."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def candidates(pages: Sequence[PageLike]) -> list[Candidate]:
    """All candidates of every kind on every page, in reading order."""
    month_first = _writes_us_dates(pages)
    found: list[Candidate] = []
    for index, page in enumerate(pages):
        offset = 0
        lines = page.text.split("\n")
        previous: list[str] = []
        for number, line in enumerate(lines):
            for kind, start, end, value in _spans(line, month_first):
                found.append(
                    Candidate(
                        kind=kind,
                        value=value,
                        raw=line[start:end],
                        page=page.number,
                        page_index=index,
                        pages=len(pages),
                        line=number,
                        lines=len(lines),
                        span=(offset + start, offset + end),
                        line_text=line,
                        left=fold(line[:start])[-48:],
                        right=fold(line[end:])[:32],
                        above=(previous[-1] if previous else "", previous[-2] if len(previous) > 1 else ""),
                    )
                )
            if line.strip():
                previous.append(fold(line.strip())[:64])
            offset += len(line) + 1
    return found


def _spans(line: str, month_first: bool) -> list[tuple[str, int, int, str]]:
    spans: list[tuple[str, int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for match in _DATE.finditer(line):
        parsed = parse_date(match.group(), month_first=month_first)
        if parsed is not None and 1990 <= parsed.year <= 2099:
            spans.append(("date", match.start(), match.end(), parsed.isoformat()))
            taken.append(match.span())
    for match in _AMOUNT.finditer(line):
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
    if party := _party(line):
        spans.append(("party", *party))
    for match in _TOKEN.finditer(line):
        token = match.group().strip(".#")
        if 3 <= len(token) <= 30 and any(c.isdigit() for c in token) and not _overlaps(match.span(), taken):
            start = match.start() + match.group().find(token)
            spans.append(("id", start, start + len(token), _reference(token)))
    return spans


def _party(line: str) -> tuple[int, int, str] | None:
    """A line (or the part after its caption's colon) that could name a party: letters, few digits."""
    start = line.rfind(":") + 1 if ":" in line else 0
    text = line[start:].strip()
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
