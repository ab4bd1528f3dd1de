"""A tax line no classifier read, completed by the arithmetic: net + tax = grand and tax = net x a printed rate.

The scan below is seed 902's eighth development scan as tesseract read it (generated names; 'BTW' read as
'BIW'). Its tax classifier rated every amount at next to nothing, the printed tax 94,40 too, so no triple of
plausible amounts added up and the honest scan raised ``TOTAL_MISMATCH``."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from docval.domain import DocKind
from extractors.model import load_model, read_fields
from extractors.model.calibration import OCR_FALLBACK_CAP
from extractors.model.joint import PLAUSIBLE, TOTALS, adds_up, complete_totals, joint_totals, printed_rates
from extractors.pdf import PageText
from extractors.rules import extract_rules

SCAN = """FACTUUR

Leverancier:
Hulst & Meeusen
Kimsingel 1
5738FA Nieuwvliet

Factuurdatum: 06/07/2024

Factuurnr.: R-3677163

Uw bestelling van: 26/05/2024
Leveringsperiode: 28/06/2024 - 06/07/2024

Klant:

Schuylenborch & van Gorp
Isisbaan 800

5375 FQ Burdaard

Omschrijving
Expanded empowering utilization

Down-sized composite solution

Netto
449,54

07/07/2024

Btw-nummer: NL455262846B01

Aantal Prijs Bedrag
4   50,98   203,92
2   122,81   245,62
BIW (21%) Te betalen
94,40   543,94 CHF

IBAN: DE42 5828 4831 6604 9144 08
"""


def _scores(**columns: list[float]) -> dict[str, np.ndarray]:
    return {name: np.array(values) for name, values in columns.items()}


def test_a_tax_line_no_classifier_read_is_completed_and_never_auto_accepted() -> None:
    pages = [PageText(number=1, text=SCAN, source="ocr")]
    rules = extract_rules(pages, DocKind.INVOICE)
    model = load_model()
    guesses = model.predict(pages, rules)
    assert [guesses[name].value for name in TOTALS] == ["449.54", "94.40", "543.94"]
    assert [guesses[name].completed for name in TOTALS] == [False, True, False]
    fields = read_fields(model, pages, rules)
    assert fields["tax_total"].value == "94.40" and fields["tax_total"].confidence <= OCR_FALLBACK_CAP
    net, tax, grand = (Decimal(str(fields[name].value)) for name in TOTALS)
    assert net + tax == grand  # no false TOTAL_MISMATCH


def test_a_printed_tax_both_relations_call_for_completes_the_triple() -> None:
    # net 33.57 and grand 36.93 read; the tax classifier rates the net's amount its tax, the printed 3.36 nothing
    values = [Decimal("33.57"), Decimal("33.57"), Decimal("3.36"), Decimal("36.93")]
    scores = _scores(
        net_total=[0.14, 0.95, 0.0, 0.0],
        tax_total=[1.0, 1.0, 0.0, 0.0],
        grand_total=[0.0, 0.0, 0.0, 0.99],
    )
    assert joint_totals(values, scores) is None
    assert complete_totals(values, scores, {Decimal("10")}) == (
        {"grand_total": 3, "net_total": 1, "tax_total": 2},
        "tax_total",
    )
    assert complete_totals(values, scores, set()) is None  # no printed rate: the scan keeps its mismatch
    assert complete_totals(values, scores, {Decimal("19")}) is None  # 3.36 is not 19 % of 33.57


def test_an_altered_grand_total_is_not_completed_away() -> None:
    # net 100 + tax 19 = 119 was printed as 129; the page also prints 29.00 and 110.00 (a line item, a
    # subtotal), each of which adds up with the altered total, but neither is 19 % of its net
    values = [Decimal("100.00"), Decimal("19.00"), Decimal("129.00"), Decimal("29.00"), Decimal("110.00")]
    scores = _scores(
        net_total=[0.9, 0.0, 0.0, 0.0, PLAUSIBLE / 2],
        tax_total=[0.0, 0.8, 0.0, PLAUSIBLE / 2, 0.0],
        grand_total=[0.0, 0.0, 0.95, 0.0, 0.0],
    )
    assert joint_totals(values, scores) is None
    assert complete_totals(values, scores, {Decimal("19")}) is None
    # the grand total is never completed: the true 119.00 printed elsewhere (a payment slip) is not taken
    values.append(Decimal("119.00"))
    scores = {name: np.append(column, 0.0) for name, column in scores.items()}
    assert complete_totals(values, scores, {Decimal("19")}) is None


def test_one_printed_amount_is_never_two_totals() -> None:
    # found by Hypothesis: 0.01 read as net and grand at once, 0.00 completing the tax at any rate
    values = [Decimal("0.00"), Decimal("0.01")]
    scores = _scores(net_total=[0.0, 1.0], tax_total=[0.0, 0.0], grand_total=[0.0, 1.0])
    assert complete_totals(values, scores, {Decimal("5")}) is None


def test_printed_rates_are_the_pages_percentages() -> None:
    texts = ["Tax (10%) Total", "TVA 5,5 % 1,10", "zzgl. 19% MwSt.", "Skonto 2 %", "150% 0%", "Art. 19.5%"]
    assert printed_rates(texts) == {Decimal(r) for r in ("10", "5.5", "19", "2", "19.5")}


amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2, allow_nan=False)


@given(
    st.lists(amounts, min_size=3, max_size=8), st.sets(st.sampled_from([5, 7, 10, 19, 20, 21]), max_size=3), st.data()
)
def test_a_completed_triple_adds_up_at_a_printed_rate_from_a_plausible_grand_total(
    values: list[Decimal], rates: set[int], data: st.DataObject
) -> None:
    scores = {
        name: np.array(data.draw(st.lists(st.floats(0, 1), min_size=len(values), max_size=len(values))))
        for name in TOTALS
    }
    completed = complete_totals(values, scores, {Decimal(rate) for rate in rates})
    if completed is None:
        return
    chosen, missing = completed
    net, tax, grand = (values[chosen[name]] for name in TOTALS)
    assert adds_up(net, tax, grand) and len(set(chosen.values())) == 3
    assert any(abs(net * rate / 100 - tax) <= Decimal("0.011") for rate in rates)
    assert missing != "grand_total" and scores["grand_total"][chosen["grand_total"]] >= PLAUSIBLE
    read = "net_total" if missing == "tax_total" else "tax_total"
    assert scores[read][chosen[read]] >= PLAUSIBLE
