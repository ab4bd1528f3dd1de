"""policy.yaml: first matching rule wins, approvals and deadlines, errors name the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docval.domain import DocKind, Outcome
from docval.errors import ConfigError
from flows.policy import DEFAULT_POLICY_YAML, DecisionInput, load_policy

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def policy(tmp_path: Path):
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT_POLICY_YAML)
    return load_policy(path)


def test_clean_small_invoice_is_auto_approved(policy) -> None:
    facts = DecisionInput(kind=DocKind.INVOICE, amount=Decimal("120.00"), min_confidence=0.99)
    decision = policy.decide(facts, now=NOW)
    assert (decision.outcome, decision.rule, decision.deadline) == (Outcome.AUTO_APPROVE, "clean-invoice", None)


def test_bad_iban_is_rejected_before_any_review_rule(policy) -> None:
    facts = DecisionInput(kind=DocKind.KYC_FORM, finding_codes=["IBAN_CHECKSUM", "DUPLICATE"])
    assert policy.decide(facts, now=NOW).outcome is Outcome.REJECT


def test_large_amount_needs_two_approvers_with_deadline(policy) -> None:
    decision = policy.decide(DecisionInput(kind=DocKind.INVOICE, amount=Decimal("25000"), min_confidence=1), now=NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.approvals_required == 2
    assert decision.deadline == NOW + timedelta(hours=24)


def test_kyc_needs_one_approver(policy) -> None:
    decision = policy.decide(DecisionInput(kind=DocKind.KYC_FORM), now=NOW)
    assert (decision.outcome, decision.rule, decision.approvals_required) == (
        Outcome.NEEDS_APPROVAL,
        "kyc-always-reviewed",
        1,
    )


@given(
    kind=st.sampled_from(list(DocKind)),
    codes=st.lists(st.sampled_from(["DUPLICATE", "TOTAL_MISMATCH", "IBAN_CHECKSUM", "DATE_ORDER"]), max_size=3),
    amount=st.none() | st.decimals(min_value=0, max_value=10**7, places=2),
    confidence=st.none() | st.floats(min_value=0, max_value=1),
)
def test_every_input_gets_exactly_one_consistent_decision(kind, codes, amount, confidence) -> None:
    policy = load_policy_text(DEFAULT_POLICY_YAML)
    decision = policy.decide(
        DecisionInput(kind=kind, finding_codes=codes, amount=amount, min_confidence=confidence), now=NOW
    )
    assert decision.outcome is not Outcome.QUARANTINE
    if codes:  # documents with findings are never published without a person
        assert decision.outcome is not Outcome.AUTO_APPROVE
    assert (decision.approvals_required > 0) == (decision.outcome is Outcome.NEEDS_APPROVAL)
    if decision.approvals_required == 2:
        assert amount is not None and amount > Decimal("10000")


def load_policy_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policy.yaml"
        path.write_text(text)
        return load_policy(path)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("rules:\n  - name: a\n    outcome: auto_approve\n  - name: b\n    outcome: publish\n", 5, "outcome"),
        ("rules:\n  - name: a\n    when: {amout_over: 5}\n    outcome: reject\n", 3, "amout_over"),
        ("rules:\n  - name: q\n    outcome: quarantine\n", 3, "quarantine"),
        ("rules: [\n", 2, "invalid YAML"),
    ],
)
def test_invalid_policy_names_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.line == line
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)
