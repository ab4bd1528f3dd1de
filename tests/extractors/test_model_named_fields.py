"""An invoice that never names a due date gets none from the model, however date-like its page is.

The scan below is seed 780's nineteenth scan as tesseract read it (generated names). It prints no due date; the
bare ``18/01/2024`` under the description is the date it was printed. The shipped model took that date for the
due date (the latest date on the page, where due dates usually are) with a score of 0.91; all 62 invoices of that
draw that print no due date got one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from docval.domain import DocKind, ExtractedField, Tier
from extractors.model import load_model, read_fields
from extractors.model.calibration import OCR_FALLBACK_CAP, Calibration
from extractors.model.features import names_concept
from extractors.model.tier import Routed, calibrated
from extractors.pdf import PageText
from extractors.rules import extract_rules

SCAN = """FACTUUR

Factuurnummer
R-3212283

Uw bestelling van
30/12/2023

Royal Brandt
Maximhof 3
2575SC Den Bommel

Omschrijving
Grass-roots incremental attitude
User-friendly 24hour pricing structure

18/01/2024

Klantnr.
365493

Datum
16/01/2024

Aantal
3
3

Totaal excl. btw
1.333,59

Royal Meyer - Noastraat 042 - 8742SP Tuitjenhorn

BTW-nr.: NL268364813B01

Leveringsdatum
04/01/2024
Prijs Bedrag
158,38   475,14
286,15   858,45
Btw 22% Totaal
293,39   1.626,98 £

IBAN: DE13 7934 6857 1582 0192 06
"""

DUE = "Vervaldatum\n30/01/2024\n\n"


def _read(text: str) -> dict[str, object]:
    pages = [PageText(number=1, text=text, source="ocr")]
    rules = extract_rules(pages, DocKind.INVOICE)
    return {name: field.value for name, field in read_fields(load_model(), pages, rules).items()}


def test_an_invoice_without_a_due_date_gets_none() -> None:
    assert "due_date" not in load_model().predict([PageText(number=1, text=SCAN, source="ocr")], {})
    fields = _read(SCAN)
    assert "due_date" not in fields
    assert str(fields["issue_date"]) == "2024-01-16"  # the other dates are still read


def test_a_due_date_the_page_names_is_read() -> None:
    text = SCAN.replace("Klantnr.", DUE + "Klantnr.")
    assert str(_read(text)["due_date"]) == "2024-01-30"


def test_names_concept_finds_a_label_in_any_language_and_case() -> None:
    assert names_concept("due", ["Date d'ÉCHÉANCE: 2025-02-05"])
    assert names_concept("due", ["x", "Fälligkeitsdatum 1.2.2025"])
    assert not names_concept("due", [SCAN, "Leveringsdatum 04/01/2024"])


lines = st.lists(st.sampled_from([line for line in SCAN.splitlines() if line]), min_size=1, max_size=40)


@given(lines)
def test_a_page_that_names_no_due_date_never_gets_one(chosen: list[str]) -> None:
    text = "\n".join(chosen)
    assert not names_concept("due", [text])
    assert "due_date" not in load_model().predict([PageText(number=1, text=text, source="ocr")], {})


def _due(score: float) -> dict[str, Routed]:
    field = ExtractedField(value="2024-01-30", confidence=score, tier=Tier.LOCAL, page=1, span=(0, 10))
    return {"due_date": Routed(field, "model_only", score)}


def test_a_scan_without_a_curve_of_its_own_keeps_the_models_probability() -> None:
    # on text layers a due date only the model read was never right (it is not printed): no answer there;
    # on a scan the rules may have missed a label OCR garbled, and too few such answers were held out for a curve
    text_says_never = Calibration({"model_only:due_date": ([0.0, 1.0], [0.0, 0.0])})
    assert calibrated(_due(0.7), text_says_never.scoped(False)) == {}
    assert calibrated(_due(0.7), text_says_never.scoped(True))["due_date"].confidence == 0.7
    assert calibrated(_due(0.99), text_says_never.scoped(True))["due_date"].confidence == OCR_FALLBACK_CAP
    scans_say_never = Calibration({"ocr:model_only:due_date": ([0.0, 1.0], [0.0, 0.0])})
    assert calibrated(_due(0.7), scans_say_never.scoped(True)) == {}
