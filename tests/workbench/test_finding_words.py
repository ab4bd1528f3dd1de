"""Every finding a reviewer can meet is explained in plain words, with the fields it concerns."""

from __future__ import annotations

import re
from pathlib import Path

from workbench.views import _PLAIN, plain_finding

REPO = Path(__file__).resolve().parents[2]


def _raised_codes() -> set[str]:
    """The finding codes the appliance's own code raises (``Finding(code="...")`` in every package but tests)."""
    sources = [p for p in REPO.glob("*/**/*.py") if p.parts[len(REPO.parts)] not in {"tests", ".venv", "benchmarks"}]
    return {code for path in sources for code in re.findall(r'code="([A-Z_]+)"', path.read_text(encoding="utf-8"))}


def test_every_raised_code_has_plain_words_and_no_words_wait_for_a_code_never_raised() -> None:
    raised = _raised_codes()
    assert {"MISSING_FIELD", "VAT_ID_INVALID", "UNSURE_IDENTIFIER", "EINVOICE_MISMATCH"} <= raised
    assert set(_PLAIN) == raised


def test_the_words_name_the_fields_and_an_unknown_code_keeps_its_message() -> None:
    assert plain_finding("MISSING_FIELD", "required for invoice: seller_vat_id", ["seller_vat_id"]) == (
        "A required field could not be read (seller_vat_id)."
    )
    assert plain_finding("SOMETHING_NEW", "iban: a newer check failed", ["iban"]) == "iban: a newer check failed"
