"""Line items from an invoice's item table: header row anchors, then rows that end in numeric columns.

A table starts at a header row naming at least two of description, quantity,
price and amount (in English, German, French or Dutch) and ends at the first
totals line. A row is a line with letters or an article code and at least two
numbers, the last with cents being the line amount. Quantity and unit price
are the first pair of the row's other numbers whose product is the amount (the
columns between them, such as a packing unit or a VAT rate, do not multiply
out). A line with no such pair, or with text after its amount, is a remark
('Rabatt: -0,03 €/Stk.'), not a row: precision over recall, since validation
sums the rows against the net total (``LINE_MISMATCH``). The
description is the row's text under the header's description column (layout
view) or the row's words before its numbers, and, when that is only an article
code, the next line's text (tables often print the name under the code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from extractors.normalize import parse_amount, plain_number
from extractors.rules.base import Candidate, PageLike

__all__ = ["COMPLETE", "extract_line_items"]

# German and Dutch captions are compounds ('Artikelbezeichnung', 'Nettopreis', 'Positionsbetrag'): those stems
# match inside words; short English words only on their own.
_ANCHORS = {
    "description": r"beschreibung|bezeichnung|omschrijving|désignation|libellé|\b(?:description|artikel|item|produkt"
    r"|product|leistung|article)\b",
    "quantity": r"menge|anzahl|hoeveelheid|aantal|\b(?:quantity|qty|quantité|qté)\b",
    "price": r"preis|prijs|\b(?:unit +price|price|prix|rate|p\.u\.)",
    "amount": r"betrag|nettowert|bedrag|\b(?:amount|montant|total|gesamt|summe)\b",
}
_COMPILED = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in _ANCHORS.items()}
_TOTALS_LINE = re.compile(
    r"^\W*(?:sub-?total|total|summe|zwischensumme|gesamt|netto|net\b|rechnungssumme|montant|totaal|grand|amount due"
    r"|warenwert|steuerbasis|tva|mwst|ust\b|vat\b|btw\b)",
    re.IGNORECASE,
)
# A group's subtotal inside a table ('Subtotal $ 112.00' after the 'Non Food' rows) does not end it.
_SUBTOTAL = re.compile(r"^\W*(?:sub-?total|zwischensumme|sous-total|subtotaal)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,/-])-?\d{1,3}(?:[.,'](?=\d{3})\d{3})*(?:[.,]\d+)?(?![\w/]|[.,]\d|\s?%)")
_CENTS = re.compile(r"[.,]\d{2}$")
_CODE = re.compile(r"^[\w./-]*\d[\w./-]*$")
_CELL_GAP = re.compile(r" {3,}")
_CLOSING = re.compile(r"(?: *(?:[A-Z]{3}|€|\$|£))?(?: +\d{1,2}(?:[.,]\d+)? *%?| +[A-Z]{1,2})? *$")  # rate / tax code
_MAX_ROWS = 200
# Complete: every table ran to a totals line and every line in it that ends in an amount became a row; only
# then may validation hold the rows' sum against the net total. Partial tables are still returned, for a person.
COMPLETE = 0.9
_PARTIAL = 0.5
_PRODUCT_SLACK = Decimal("0.011")


def extract_line_items(pages: Sequence[PageLike]) -> Candidate | None:
    """All item rows of the document's tables as JSON-ready dicts (decimal strings), or None when no table;
    located at the first table (a field has one page and span)."""
    items: list[dict[str, str | None]] = []
    first: tuple[int, tuple[int, int]] | None = None
    complete = True
    for page in pages:
        lines = page.text.split("\n")
        offsets = _offsets(lines)
        index = 0
        while index < len(lines):
            header = _header(lines[index])
            if header is None:
                index += 1
                continue
            start = index
            rows, index, whole = _rows(lines, index + 1, header)
            complete = complete and (whole or not rows)
            if rows and first is None:  # the span covers the first table, header to last line read
                first = (page.number, (offsets[start], offsets[index - 1] + len(lines[index - 1])))
            items.extend(rows)
    if not items or first is None:
        return None
    page_number, span = first
    return Candidate(COMPLETE if complete else _PARTIAL, items, page_number, span)  # type: ignore[arg-type]


def _offsets(lines: list[str]) -> list[int]:
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    return offsets


@dataclass(frozen=True)
class _Header:
    description: tuple[int, int]  # character range of the description caption; (0, 0) when there is none
    price_first: bool  # the price column is printed before the quantity column


def _header(line: str) -> _Header | None:
    """A header row: two or more anchor kinds and no numbers."""
    found = {name: pattern.search(line) for name, pattern in _COMPILED.items()}
    if sum(1 for match in found.values() if match) < 2 or _NUMBER.search(line) or _TOTALS_LINE.match(line):
        return None
    described, quantity, price = found["description"], found["quantity"], found["price"]
    price_first = bool(quantity and price and price.start() < quantity.start())
    return _Header(described.span() if described else (0, 0), price_first)


def _rows(lines: list[str], start: int, header: _Header) -> tuple[list[dict[str, str | None]], int, bool]:
    """Rows from ``start`` until a totals line; returns them, the index after the table and whether the table
    is whole (it reached a totals line and no line ending in an amount was passed over)."""
    rows: list[dict[str, str | None]] = []
    index = start
    passed_over = False
    while index < len(lines) and len(rows) < _MAX_ROWS:
        line = lines[index]
        if _SUBTOTAL.match(line) and index + 1 < len(lines) and not _TOTALS_LINE.match(lines[index + 1]):
            index += 1  # more rows follow: a group's subtotal
            continue
        if _TOTALS_LINE.match(line) or _header(line) is not None:
            return rows, index, not passed_over and _TOTALS_LINE.match(line) is not None
        row = _row(line, header)
        if row is not None:
            if not row["description"]:
                row["description"] = _continuation(lines, index + 1, header.description)
            rows.append(row)
        else:
            passed_over = passed_over or _ends_in_amount(line)
        index += 1
    return rows, index, False


def _ends_in_amount(line: str) -> bool:
    numbers = list(_NUMBER.finditer(line))
    return bool(numbers) and bool(_CENTS.search(numbers[-1].group(0))) and bool(_CLOSING.match(line, numbers[-1].end()))


def _row(line: str, header: _Header) -> dict[str, str | None] | None:
    numbers = list(_NUMBER.finditer(line))
    amounts = [match for match in numbers if _CENTS.search(match.group(0))]
    if len(numbers) < 2 or not amounts or not re.search(r"[^\W\d_]", line):
        return None
    amount_match = amounts[-1]
    amount = parse_amount(amount_match.group(0))
    before = [parse_amount(match.group(0)) for match in numbers if match.end() <= amount_match.start()]
    quantity, unit_price = _factors([value for value in before if value is not None], amount)
    if header.price_first:
        quantity, unit_price = unit_price, quantity
    if quantity is None or not _CLOSING.match(line, amount_match.end()):
        return None  # a remark with numbers in it ('Rabatt: -0,03 €/Stk.'), not an item row
    return {
        "description": _description(line, header.description, numbers[0].start()),
        "quantity": None if quantity is None else plain_number(quantity),  # '10', not '10.0'
        "unit_price": None if unit_price is None else str(unit_price),
        "amount": None if amount is None else str(amount),
    }


def _factors(values: list[Decimal], amount: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """The first (quantity, unit price) pair, in printed order, whose product is the amount."""
    if amount is None:
        return None, None
    for quantity, unit_price in combinations(values, 2):
        if quantity != 0 and abs(quantity * unit_price - amount) <= _PRODUCT_SLACK:
            return quantity, unit_price
    return None, None


def _description(line: str, column: tuple[int, int], numbers_start: int) -> str | None:
    """The cell under the description caption (layout view), else the words before the numbers."""
    cells = [(m.start(), m.group(0)) for m in re.finditer(r"\S+(?: {1,2}\S+)*", line)]
    if column != (0, 0) and _CELL_GAP.search(line):
        under = [text for start, text in cells if start < column[1] + 2 and start + len(text) > column[0] - 2]
        words = [text for text in under if not _is_code(text)]
        if words:
            return " ".join(words)
    head = line[:numbers_start].strip()
    parts = _CELL_GAP.split(head)
    named = [part for part in parts if not _is_code(part)]
    return named[-1].strip() if named else None


def _is_code(cell: str) -> bool:
    """Article numbers, GTINs and position numbers ('4123456000014  ZS997', '1'): not a description."""
    return all(_CODE.match(word) for word in cell.split())


def _continuation(lines: list[str], index: int, column: tuple[int, int]) -> str | None:
    """A name printed under the row's article code: the next line, when it carries no numbers of its own."""
    if index >= len(lines):
        return None
    line = lines[index]
    if not line.strip() or len(list(_NUMBER.finditer(line))) >= 2 or _TOTALS_LINE.match(line):
        return None
    return _description(line, column, len(line))  # without the article code printed in front of the name
