"""A national id is checked only under the scheme its caption or the document's country names (issue 14, item 6).

The installation's default scheme is the German tax id; a Dutch BSN, a French
NIR or an ID-card number is not invalid because it fails a German check.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.nl import bsn

from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.rules import Page, extract_rules
from extractors.schemas import Extraction
from extractors.validate import validate

LIMITS = ExtractSettings()  # national_id_scheme = "de.idnr"


def _with_check_digit(prefix: str) -> str:
    """The BSN "11-test": 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11."""
    return prefix + str(sum((9 - i) * int(d) for i, d in enumerate(prefix)) % 11)


valid_bsn = (
    st.integers(min_value=10_000_000, max_value=99_999_999)
    .map(lambda n: _with_check_digit(f"{n:08d}"))
    .filter(lambda n: len(n) == 9 and bsn.is_valid(n))
)


def _codes(text: str) -> list[str]:
    fields = extract_rules([Page(1, text)], DocKind.KYC_FORM)
    extraction = Extraction(kind=DocKind.KYC_FORM, fields=fields)
    findings = validate(extraction, settings=LIMITS, today=date(2026, 12, 31))
    return [finding.code for finding in findings if finding.code == "NATIONAL_ID_INVALID"]


@settings(max_examples=40, deadline=None)
@given(number=valid_bsn, caption=st.sampled_from(["BSN", "Burgerservicenummer"]))
def test_a_valid_bsn_is_not_flagged_under_the_german_default(number: str, caption: str) -> None:
    assert _codes(f"KYC onboarding\nFull name: Jan Jansen\n{caption}: {number}") == []
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    if not bsn.is_valid(broken):
        assert _codes(f"KYC onboarding\nFull name: Jan Jansen\n{caption}: {broken}") == ["NATIONAL_ID_INVALID"]


@settings(max_examples=25, deadline=None)
@given(number=valid_bsn)
def test_a_generic_caption_takes_the_scheme_of_the_country_named(number: str) -> None:
    address = "Address: Dorpsstraat 1, 3511 AB Utrecht, Nederland"
    page = f"KYC onboarding\nFull name: Jan Jansen\n{address}\nNational ID: {number}"
    assert _codes(page) == []


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("Personalausweisnummer: T22000129", False),  # an ID-card number has no public check digits
        ("Steuer-ID: 65929970489", False),  # a valid German tax id under its own caption
        ("Steuer-ID: 65929970488", True),
        ("National ID: 65929970488", True),  # no caption scheme, no country: the installation's default
        ("NIR: 2 95 10 99 126 111 93", False),  # French social security number under its caption
    ],
)
def test_caption_decides_the_scheme(line: str, flagged: bool) -> None:
    assert _codes(f"KYC onboarding\nFull name: Erika Musterfrau\n{line}") == (
        ["NATIONAL_ID_INVALID"] if flagged else []
    )
