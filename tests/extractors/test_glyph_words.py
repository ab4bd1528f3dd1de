"""Words from glyph positions when a text layer has no spaces (issue 14, item 6).

The producer here places every word with its own positioning operator, 1.2 pt
apart at 11 pt and with no space character — what a reader sees as words, and
what pypdf's gap heuristic glues ("Invoicenumber:INV-2026-0042"). PDFium's
advance boxes put the spaces back, and the rules read the fields.
"""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.pdf import load_pdf
from extractors.rules import extract_rules

LINES = [
    "INVOICE",
    "Invoice number: INV-2026-0042",
    "Invoice date: 12.03.2026",
    "Seller: Acme Widgets GmbH",
    "Net total: 1,037.45 EUR",
    "VAT 19%: 197.12 EUR",
    "Total due: 1,234.57 EUR",
]


def _word_by_word_pdf(gap: float) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    y = 780.0
    for line in LINES:
        text, x = canvas.beginText(50, y), 50.0
        text.setFont("Helvetica", 11)
        for word in line.split(" "):
            text.setTextOrigin(x, y)
            text.textOut(word)
            x += canvas.stringWidth(word, "Helvetica", 11) + gap
        canvas.drawText(text)
        y -= 18
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_words_come_back_from_glyph_positions(tmp_path: Path) -> None:
    path = tmp_path / "no-spaces.pdf"
    path.write_bytes(_word_by_word_pdf(gap=1.2))
    document = load_pdf(path, ExtractSettings(ocr_enabled=False))
    assert "Invoice number: INV-2026-0042" in document.text and "Acme Widgets GmbH" in document.text
    fields = extract_rules(list(document.pages), DocKind.INVOICE)
    assert fields["invoice_number"].value == "INV-2026-0042"
    assert fields["issue_date"].value == "2026-03-12"
    assert (fields["net_total"].value, fields["grand_total"].value) == ("1037.45", "1234.57")


def test_glyphs_set_tight_but_not_apart_stay_one_word(tmp_path: Path) -> None:
    """Letters inside a word have no gap between their advance boxes: no spaces are invented."""
    path = tmp_path / "no-gaps.pdf"
    path.write_bytes(_word_by_word_pdf(gap=0.0))
    assert "Invoicenumber:INV-2026-0042" in load_pdf(path, ExtractSettings(ocr_enabled=False)).text


def test_text_is_valid_unicode_even_when_a_font_maps_to_lone_surrogates(shared_data: Path) -> None:
    """This Factur-X sample's font maps an envelope emoji to two unjoined UTF-16 halves; the text must still be
    writable as UTF-8 (spaCy, Presidio, the outbox and the ledger all need that)."""
    name = "zugferd/pdfs/ZUGFeRDv2/correct/FNFE-factur-x-examples/Avoir_FR_type381_BASIC.pdf"
    text = load_pdf(shared_data / name, ExtractSettings(ocr_enabled=False)).text
    assert "Total TTC" in text
    text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
