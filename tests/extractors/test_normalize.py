"""Normalisers: every printed form of a date or an amount comes back as the same canonical value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.normalize import currency_code, iban_is_valid, parse_amount, parse_date, party_name, vat_id_is_valid

MONEY = st.decimals(min_value=Decimal("-999999.99"), max_value=Decimal("9999999.99"), places=2)
DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2049, 12, 31))
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]  # fmt: skip
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre"]  # fmt: skip


def _grouped(value: Decimal, thousands: str, decimal_mark: str) -> str:
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", thousands)
    return f"{sign}{groups}{decimal_mark}{cents}"


@given(MONEY, st.sampled_from([(".", ","), (",", "."), ("", ","), ("", "."), ("'", ".")]), st.sampled_from(["", " €"]))
def test_amounts_in_any_locale(value: Decimal, marks: tuple[str, str], suffix: str) -> None:
    printed = _grouped(value, *marks) + suffix
    assert parse_amount(printed) == value


@given(DATES)
def test_dates_in_every_printed_form(day: date) -> None:
    forms = [
        day.strftime("%d.%m.%Y"),
        day.isoformat(),
        day.strftime("%Y%m%d"),
        f"{day.day}. {MONTHS_DE[day.month - 1]} {day.year}",
        f"{day.day:02d} {MONTHS_FR[day.month - 1]} {day.year}",
        day.strftime("%B %d, %Y"),
        day.strftime("%b %d , %Y"),
    ]
    for printed in forms:
        assert parse_date(printed) == day, printed
    assert parse_date(day.strftime("%m/%d/%Y"), month_first=True) == day


@pytest.mark.parametrize("text", ["", "no date here", "31.02.2024", "99/99/2024"])
def test_unparseable_dates_are_none(text: str) -> None:
    assert parse_date(text) is None


def test_day_first_unless_impossible() -> None:
    assert parse_date("03/04/2023") == date(2023, 4, 3)
    assert parse_date("03/20/2023") == date(2023, 3, 20)


def test_identifiers_and_currencies() -> None:
    assert iban_is_valid("DE89 3704 0044 0532 0130 00") and not iban_is_valid("DE89 3704 0044 0532 0130 01")
    assert vat_id_is_valid("DE 136 695 976") and not vat_id_is_valid("DE136695977")
    assert [currency_code(t) for t in ("€", "usd", "Rs", "£", "XYZ")] == ["EUR", "USD", "INR", "GBP", None]


@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("‘Gehringer GbR -", "Gehringer GbR"),  # what tesseract made of specks at a scanned name's edges
        ("-- Howard, Wilson and Brown’", "Howard, Wilson and Brown"),
        ("Collin SA °", "Collin SA"),
        ('"_ Dobes GmbH & Co. OHG', "Dobes GmbH & Co. OHG"),
        ("ACME Inc.", "ACME Inc."),  # a name's own marks stay
        ("'t Hooft BV", "'t Hooft BV"),
        ('"Sonne" GmbH', '"Sonne" GmbH'),
        ('Firma "Sonne"', 'Firma "Sonne"'),
    ],
)
def test_a_party_name_loses_the_specks_at_its_edges_and_keeps_its_own_marks(read: str, name: str) -> None:
    assert party_name(read) == name


@given(st.text(max_size=40))
def test_a_party_name_is_read_from_its_text_once_and_for_all(text: str) -> None:
    name = party_name(text)
    assert name in text and party_name(name) == name  # cut at the edges only, and nothing left to cut
