"""Drawing one generated invoice onto a reportlab canvas, in one of ``LAYOUTS`` templates.

A template fixes where the head block (number, dates, references), the party
blocks and the totals go; the style (``layouts.Style``) fixes the words,
date and number formats. Long tables continue on the next page, so totals
can land on page 2.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

if TYPE_CHECKING:
    from extractors.layouts import Style

__all__ = ["LAYOUTS", "draw"]

# layout id -> (head block style, party block style, totals style)
LAYOUTS = [
    ("box", "stacked", "block"),
    ("list", "columns", "block"),
    ("row", "stacked", "row"),
    ("below", "columns", "block"),
    ("sentence", "footer", "block"),
    ("box", "columns", "row"),
    ("row", "footer", "block"),
    ("list", "stacked", "row"),
    ("below", "footer", "row"),
]
_TOP = A4[1] - 50
_RIGHT = A4[0] - 50
_ROWS_PER_PAGE = 18
_FOOTER_SEPARATORS = (" - ", " | ", " · ", " – ", "   ")  # how a footer strings the seller's block onto one line


def draw(canvas: Canvas, layout: int, style: Style, data: dict[str, object], rng: random.Random) -> None:
    head, parties, totals = LAYOUTS[layout]
    font = rng.choice(["Helvetica", "Times-Roman", "Courier"])
    labels = style.labels
    canvas.setFont(font + ("-Bold" if font != "Times-Roman" else ""), 16)
    canvas.drawString(50, _TOP, labels["credit"] if style.credit else labels["title"])
    canvas.setFont(font, 9)
    y = _TOP - 30
    if parties != "footer":
        y = _party(canvas, labels["seller"], data["seller_name"], data["seller_address"], 50, y, rng)
    y = _head(canvas, head, style, data, y, rng)
    if parties == "columns":
        _party(canvas, labels["buyer"], data["buyer_name"], data["buyer_address"], 330, _TOP - 30, rng)
    else:
        y = _party(canvas, labels["buyer"], data["buyer_name"], data["buyer_address"], 50, y - 10, rng)
    y = _table(canvas, style, data, y - 20, font)
    y = _totals(canvas, totals, style, data, y - 20)
    _footer(canvas, style, data, rng.choice(_FOOTER_SEPARATORS) if parties == "footer" else None)


def _party(canvas: Canvas, caption: str, name: object, address: object, x: float, y: float, rng) -> float:
    if rng.random() < 0.6:
        canvas.drawString(x, y, f"{caption}:")
        y -= 12
    for line in [str(name), *address]:  # type: ignore[misc]
        canvas.drawString(x, y, line)
        y -= 12
    return y - 6


def _head_items(style: Style, data: dict[str, object], rng: random.Random) -> list[tuple[str, str]]:
    labels = style.labels
    items = [(labels["number"], str(data["invoice_number"])), (labels["issue"], style.date(data["issue"]))]
    extras = {
        "delivery": (labels["delivery"], style.date(data["delivery"])),
        "period": (labels["period"], f"{style.date(data['delivery'])} - {style.date(data['issue'])}"),
        "order": (labels["order"], style.date(data["order"])),
        "customer": (labels["customer"], str(data["customer"])),
    }
    items += [extras[key] for key in data["extras"] if key in extras]  # type: ignore[attr-defined]
    if data["due_date"]:
        items.append((labels["due"], style.date(data["due"])))
    rng.shuffle(items)
    return items


def _head(canvas: Canvas, head: str, style: Style, data: dict[str, object], y: float, rng) -> float:
    items = _head_items(style, data, rng)
    if head == "box":
        box_y = _TOP - 30
        for label, value in items:
            canvas.drawString(330, box_y, f"{label}:")
            canvas.drawRightString(_RIGHT, box_y, value)
            box_y -= 13
        return min(y, box_y) - 6
    if head == "row":
        step = (_RIGHT - 50) / len(items)
        for index, (label, value) in enumerate(items):
            canvas.drawString(50 + index * step, y, label)
            canvas.drawString(50 + index * step, y - 12, value)
        return y - 30
    if head == "below":
        for index, (label, value) in enumerate(items):
            column, row = index % 3, index // 3
            canvas.drawString(50 + column * 170, y - row * 28, label)
            canvas.drawString(50 + column * 170, y - row * 28 - 11, value)
        return y - 28 * ((len(items) + 2) // 3) - 6
    if head == "sentence":
        number = dict(items).pop(style.labels["number"])
        canvas.drawString(50, y, f"{style.labels['number']} {number} - {style.date(data['issue'])}")
        items = [item for item in items if item[0] not in (style.labels["number"], style.labels["issue"])]
        y -= 14
    for label, value in items:  # "list" (and the rest of "sentence")
        canvas.drawString(50, y, f"{label}: {value}")
        y -= 12
    return y - 6


def _table(canvas: Canvas, style: Style, data: dict[str, object], y: float, font: str) -> float:
    columns = style.labels["table"].split("|")
    rows = data["lines"]
    sign = data["sign"]

    def header(at: float) -> None:
        for x, title in zip((50, 330, 400, 490), columns, strict=True):
            canvas.drawString(x, at, title)
        canvas.line(50, at - 4, _RIGHT, at - 4)

    header(y)
    page = 1
    for index, (description, quantity, price, amount) in enumerate(rows):  # type: ignore[attr-defined]
        if index and index % _ROWS_PER_PAGE == 0:
            canvas.drawRightString(_RIGHT, 30, f"{style.labels['page']} {page}")
            canvas.showPage()
            canvas.setFont(font, 9)
            page += 1
            y = _TOP - 20
            header(y)
        y -= 15
        canvas.drawString(50, y, description)
        canvas.drawRightString(350, y, str(quantity))
        canvas.drawRightString(460, y, style.money(price))
        canvas.drawRightString(_RIGHT, y, style.money(amount * sign))  # type: ignore[operator]
    if y < 200:
        canvas.drawRightString(_RIGHT, 30, f"{style.labels['page']} {page}")
        canvas.showPage()
        canvas.setFont(font, 9)
        y = _TOP
    return y


def _totals(canvas: Canvas, totals: str, style: Style, data: dict[str, object], y: float) -> float:
    code, symbol = style.currency
    labels = style.labels
    tax_label = labels["tax"].format(rate=f"{data['rate']:g}")
    rows = [
        (labels["net"], style.money(Decimal(str(data["net_total"])))),
        (tax_label, style.money(Decimal(str(data["tax_total"])))),
        (labels["grand"], style.money(Decimal(str(data["grand_total"])))),
    ]
    if totals == "row":
        canvas.line(50, y + 8, _RIGHT, y + 8)
        for index, (label, value) in enumerate(rows):
            canvas.drawRightString(300 + index * 125, y, label)
            canvas.drawRightString(300 + index * 125, y - 12, f"{value} {symbol}" if index == 2 else value)
        return y - 40
    for index, (label, value) in enumerate(rows):
        canvas.drawString(350, y, f"{label}:")
        canvas.drawRightString(_RIGHT, y, f"{symbol} {value}" if index == 2 and symbol != code else f"{value} {code}")
        y -= 14
    return y


def _footer(canvas: Canvas, style: Style, data: dict[str, object], separator: str | None) -> None:
    """Print date, the seller's block on one line when ``separator`` is given, VAT id and IBAN."""
    y = 70
    if "printed" in data["extras"]:  # type: ignore[operator]
        canvas.drawString(50, y + 24, style.date(data["printed"]))
    if separator is not None:
        canvas.drawString(50, y, separator.join([str(data["seller_name"]), *data["seller_address"]]))  # type: ignore[misc]
        y -= 12
    if data["seller_vat_id"]:
        canvas.drawString(50, y, f"{style.labels['vat']}: {data['seller_vat_id']}")
    iban = str(data["iban"])
    canvas.drawString(330, y, "IBAN: " + " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)))
