"""``policy.yaml``: what happens to a document once it is extracted and validated.

Rules are tried top to bottom and the first whose conditions all hold decides,
so an operator reads the file like a checklist. Every decision names the rule
that made it (it goes to the ledger), approvals get a deadline, and documents
over ``two_approvers_over`` need two distinct approvers. Unknown keys are
errors: a misspelt condition must not silently turn into "always matches".
Everything else that changes decisions lives here too, so admins sign it with the rules (``docval policy
apply``): who is told when a deadline passes (``escalation_command``) and which OS account's files are whose
(``os_makers``, the maker a document's own approvers are checked against).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from approvals.policy_input import DecisionInput
from docval.configfile import load_yaml_model
from docval.domain import DocKind, Outcome
from ledger.bundle_verify import policy_outcome

__all__ = [
    "DEFAULT_POLICY_YAML",
    "Condition",
    "DecisionInput",
    "Policy",
    "PolicyDecision",
    "Rule",
    "load_policy",
    "policy_version",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """All given conditions must hold; an empty condition always holds (a catch-all rule)."""

    kinds: list[DocKind] | None = None
    findings_any: list[str] | None = Field(None, description="At least one finding with one of these codes.")
    any_finding: bool | None = Field(None, description="True: there is at least one finding; False: none.")
    amount_over: Decimal | None = None
    amount_at_most: Decimal | None = None
    confidence_below: float | None = Field(
        None, ge=0, le=1, description="Lowest field confidence (the calibrated probability that it is right) is below."
    )


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    when: Condition = Condition()
    outcome: Outcome

    @field_validator("outcome")
    @classmethod
    def _not_quarantine(cls, outcome: Outcome) -> Outcome:
        if outcome is Outcome.QUARANTINE:
            raise ValueError("quarantine is for unreadable files, not a policy outcome")
        return outcome


class PolicyDecision(_Strict):
    outcome: Outcome
    rule: str
    approvals_required: int = 0
    deadline: datetime | None = None


class Policy(_Strict):
    rules: list[Rule]
    default: Outcome = Outcome.NEEDS_APPROVAL
    approval_deadline_hours: float = Field(24.0, gt=0)
    two_approvers_over: Decimal = Field(Decimal("10000"), ge=0)
    escalation_command: list[str] = Field([], description="argv run when an approval misses its deadline.")
    os_makers: dict[str, str] = Field(
        {}, description="OS account owning an inbox file (or running `docval process`) -> enrolled person who made it."
    )

    def decide(self, facts: DecisionInput, *, now: datetime) -> PolicyDecision:
        """The verifier's own evaluator (``ledger.bundle_verify.policy_outcome``) on plain data: one implementation."""
        outcome, name, required = policy_outcome(self.model_dump(mode="json"), facts.model_dump(mode="json"))
        if outcome != Outcome.NEEDS_APPROVAL:
            return PolicyDecision(outcome=Outcome(outcome), rule=name)
        deadline = now + timedelta(hours=self.approval_deadline_hours)
        return PolicyDecision(outcome=Outcome(outcome), rule=name, approvals_required=required, deadline=deadline)


def load_policy(path: Path) -> Policy:
    """Load and validate ``policy.yaml``; a ConfigError names the line at fault."""
    return load_yaml_model(path, Policy)


def policy_version(path: Path) -> str:
    """SHA-256 of the policy file's bytes: the version every decision names (``config.applied`` ledgers it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


DEFAULT_POLICY_YAML = """\
# docval decision policy: first matching rule wins; see README "flows".
approval_deadline_hours: 24
two_approvers_over: "10000.00"     # needs_approval above this amount requires two distinct approvers
escalation_command: []              # e.g. ["/usr/local/bin/notify-compliance"]; gets DOCVAL_DOC in its env
os_makers: {}                       # OS account -> enrolled person who made the files it owns, e.g. {svc-scan: alice}
default: needs_approval
rules:
  - name: broken-bank-details
    when: {findings_any: [IBAN_CHECKSUM, VAT_ID_INVALID]}
    outcome: reject
  - name: possible-duplicate
    when: {findings_any: [DUPLICATE]}
    outcome: needs_approval
  - name: findings-need-review
    when: {any_finding: true}
    outcome: needs_approval
  - name: kyc-always-reviewed
    when: {kinds: [kyc_form]}
    outcome: needs_approval
  # Target precision 99 %: a confidence is the calibrated probability that the value is right; fields at or
  # above 0.98 were right in >= 99 % of held-out cases, generated and real (README "The trained model tier").
  - name: low-confidence
    when: {confidence_below: 0.98}
    outcome: needs_approval
  - name: large-amount
    when: {amount_over: "5000.00"}
    outcome: needs_approval
  - name: clean-invoice
    when: {kinds: [invoice]}
    outcome: auto_approve
"""
