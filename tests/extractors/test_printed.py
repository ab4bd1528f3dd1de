"""The "printed values only" check behind the eval's second figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from extractors.printed import is_printed

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2)


@given(amounts, st.sampled_from(["{:,.2f}", "{:.2f}"]), st.booleans())
def test_an_amount_in_any_usual_printed_form_is_found(amount: Decimal, pattern: str, european: bool) -> None:
    printed = pattern.format(amount)
    if european:  # 1,234.56 -> 1.234,56
        printed = printed.replace(",", "_").replace(".", ",").replace("_", ".")
    assert is_printed("grand_total", str(amount), f"Gesamtbetrag: {printed} EUR")
    assert not is_printed("grand_total", str(amount + Decimal("0.01")), f"Gesamtbetrag: {printed} EUR")


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)))
def test_a_date_is_found_in_day_first_or_iso_form(day: date) -> None:
    assert is_printed("issue_date", day.isoformat(), f"Rechnungsdatum {day:%d.%m.%Y}")
    assert is_printed("issue_date", day.isoformat(), f"Date: {day.isoformat()}")


def test_identifiers_names_and_currencies() -> None:
    text = "Au bon moulin SARL\nIBAN : FR76 1010 7002 4500 6170 5231 739\nTotal 10,00 €\nRs 1939"
    assert is_printed("iban", "FR7610107002450061705231739", text)
    assert is_printed("seller_name", "Au bon moulin", text)
    assert is_printed("buyer_name", "Somebody Else\nAu bon moulin SARL", text)  # any one line of a packed name
    assert not is_printed("seller_name", "Seller Inc.", text)
    assert is_printed("currency", "EUR", text) and is_printed("currency", "INR", text)
    assert not is_printed("currency", "GBP", text)
    assert is_printed("grand_total", "1939", text) and not is_printed("grand_total", "193", text)
