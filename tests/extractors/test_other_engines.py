"""What invoices printed by other engines than the training layouts' broke (benchmarks/html_bench.py, issue 14).

HTML templates printed by Chromium, read by the shipped extractor, showed general faults; three are mended here:
ligature glyphs in the text layer, a header row of labels over a row of values whose columns plain text does
not keep, and an invoice number read from the seller's VAT id at full confidence. Each test fails without its
mechanism.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from docval.domain import ExtractedField, Tier
from docval.settings import ExtractSettings, Settings
from extractors.extract import extract
from extractors.model import load_model
from extractors.model.calibration import OCR_FALLBACK_CAP
from extractors.model.tier import Routed, another_identifier, calibrated
from extractors.pdf import load_pdf
from extractors.router import Router

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core (scripts/system-deps.sh)


def _pdf(lines: list[tuple[float, float, str]], font: str = "Helvetica") -> bytes:
    """A one-page PDF whose texts are drawn at (x, y) in one text object, as a browser prints a page's cells."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    text = canvas.beginText()
    text.setFont(font, 10)
    for x, y, cell in lines:
        text.setTextOrigin(x, y)
        text.textOut(cell)
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_ligature_glyphs_are_read_as_their_letters(tmp_path: Path) -> None:
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
    path = tmp_path / "ligatures.pdf"
    path.write_bytes(_pdf([(50, 780, "Factura rectiﬁcativa"), (50, 760, "Carducci e ﬁgli, Ofﬁcina")], "DejaVuSans"))
    document = load_pdf(path, ExtractSettings(ocr_enabled=False))
    assert "Factura rectificativa" in document.text and "Carducci e figli, Officina" in document.text
    assert "ﬁ" not in document.layout_pages()[0].text


def test_a_header_row_gives_each_label_the_value_under_it(tmp_path: Path) -> None:
    """Plain text strings a header row's cells with single spaces, so the due date's column holds two dates
    there; the layout view keeps the columns and its reading wins."""
    labels = ["Factuurnummer", "Datum", "Leverdatum", "Besteldatum", "Vervaldatum"]
    values = ["RE9936040", "13/05/2024", "23/04/2024", "23/04/2024", "12/06/2024"]
    columns = [50, 150, 230, 330, 440]
    cells = [(x, 700, label) for x, label in zip(columns, labels, strict=True)]
    cells += [(x, 686, value) for x, value in zip(columns, values, strict=True)]
    cells += [(50, 780, "Factuur"), (50, 600, "Totaal 1.596,43 EUR")]
    path = tmp_path / "header-row.pdf"
    path.write_bytes(_pdf(cells))
    document = load_pdf(path, ExtractSettings(ocr_enabled=False))
    assert "Besteldatum Vervaldatum\n" in document.text  # a line of labels, one of values, columns not kept
    fields = extract(document, Router.rules_only(Settings())).fields
    assert fields["due_date"].value == "2024-06-12"
    assert fields["issue_date"].value == "2024-05-13"


@pytest.mark.parametrize(
    ("value", "flagged"),
    [("DE809643854", True), ("DE89370400440532013000", True), ("RE3829045", False), ("2024/2944679", False)],
)
def test_an_invoice_number_that_is_a_vat_id_or_iban_is_never_auto_accepted(value: str, flagged: bool) -> None:
    model = load_model()
    field = ExtractedField(value=value, confidence=1.0, tier=Tier.LOCAL, page=1, span=(0, len(value)))
    answer = calibrated({"invoice_number": Routed(field, "rules", 1.0)}, model.calibration)["invoice_number"]
    assert another_identifier("invoice_number", value) is flagged
    assert answer.confidence == (OCR_FALLBACK_CAP if flagged else 1.0)


@given(st.text(alphabet="0123456789-/", min_size=1, max_size=20))
def test_numbers_without_a_country_prefix_are_never_taken_for_identifiers(number: str) -> None:
    assert not another_identifier("invoice_number", number)
    assert not another_identifier("seller_vat_id", "DE809643854")
