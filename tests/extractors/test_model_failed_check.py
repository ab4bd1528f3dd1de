"""Totals that do not add up are never auto-accepted, however sure the readers that agree on one of them are.

The scan below is seed 780's twelfth scan as tesseract read it (generated names): its grand total was altered
after printing (729,39 + 72,94 is 802,33, not 812,33) and OCR read 'TVA (10 %)' as '(10 $)' and lost the 'à'
of 'Net à payer'. The rules' layout view read the grand total under 'Net a payer' as the net, and it stood at 0.987."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from docval.domain import DocKind, ExtractedField, Tier
from extractors.model import load_model, read_fields
from extractors.model.calibration import OCR_FALLBACK_CAP, Calibration
from extractors.model.joint import TOTALS, adds_up, balances
from extractors.model.scorer import Prediction
from extractors.model.tier import calibrated, route, totals_fail
from extractors.pdf import PageText
from extractors.rules import extract_rules, merge_views

SCAN = """FACTURE

Imbert Guyot SA
9, chemin Clémence Pascal
48648 Da SilvaBourg

N° facture: FA-6218463

Date d'échéance: 2025-02-05
Période: 2025-01-25 - 2025-01-29
Date de facture: 2025-01-29

Destinataire:

Denis SARL

85, boulevard de Lefévre
63782 Coulon-sur-Boulanger

Désignation Qtré Prix unitaire Montant
La possibilité d'innover plus rapidement 3   243,13   729,39
Sous-total TVA (10 $) Net a payer
729,39   72,94   812,33 CHF
2025-01-30

TVA intracom.: FR42562652875 IBAN: DE30 5732 9350 5067 6061 14
"""


# the table in the page's layout view (``PdfDocument.layout_pages``): the rules read the totals row by its columns
LAYOUT = """\
  Désignation                                           Qtré          Prix unitaire    Montant
  La possibilité d'innover plus rapidement                 3               243,13          729,39
                                        Sous-total              TVA (10 $)             Net a payer
                                            729,39                   72,94              812,33 CHF
"""


def _totals(net: str, tax: str, grand: str, score: float) -> dict[str, ExtractedField]:
    spans = {"net_total": (0, 6), "tax_total": (10, 16), "grand_total": (20, 26)}
    values = dict(zip(TOTALS, (net, tax, grand), strict=True))
    return {
        name: ExtractedField(value=values[name], confidence=score, tier=Tier.RULES, page=1, span=spans[name])
        for name in TOTALS
    }


def test_an_altered_scan_keeps_no_total_at_the_auto_accept_level() -> None:
    pages = [PageText(number=1, text=SCAN, source="ocr")]
    layout = [PageText(number=1, text=SCAN[: SCAN.index("Désignation")] + LAYOUT, source="ocr")]
    rules = merge_views(extract_rules(pages, DocKind.INVOICE), extract_rules(layout, DocKind.INVOICE), pages, layout)
    fields = read_fields(load_model(), pages, rules)
    net, tax, grand = (Decimal(str(fields[name].value)) for name in TOTALS)
    assert not adds_up(net, tax, grand)
    assert all(fields[name].confidence <= OCR_FALLBACK_CAP for name in TOTALS), {
        name: fields[name].confidence for name in TOTALS
    }


def test_readers_agreeing_on_totals_that_do_not_add_up_are_capped() -> None:
    identity = Calibration()  # no curves: scores pass through unchanged
    rules = _totals("812.33", "72.94", "812.33", 0.99)  # the net derived from the altered grand total
    guesses = {name: Prediction(str(field.value), 0.99, 1, field.span) for name, field in rules.items()}
    fields = calibrated(route(rules, guesses, identity), identity)
    assert all(fields[name].confidence <= OCR_FALLBACK_CAP for name in TOTALS)
    honest = _totals("729.39", "72.94", "802.33", 0.99)
    fields = calibrated(route(honest, {}, identity), identity)
    assert all(fields[name].confidence == 0.99 for name in TOTALS)


amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=2, allow_nan=False)


@given(amounts, amounts, st.integers(-500, 500), st.floats(0.0, 1.0))
def test_totals_are_capped_exactly_when_they_do_not_add_up(net: Decimal, tax: Decimal, off: int, score: float) -> None:
    grand = net + tax + Decimal(off) / 100
    identity = Calibration()
    routed = route(_totals(str(net), str(tax), str(grand), score), {}, identity)
    fields = calibrated(routed, identity)
    assert totals_fail(routed) == (not balances(net, tax, grand))
    expected = min(score, OCR_FALLBACK_CAP) if totals_fail(routed) else score
    assert all(fields[name].confidence == round(expected, 4) for name in TOTALS)
