"""The approval gate's checks, as one pure function so every rule is testable without Prefect.

A resume of a paused approval run carries only a decision token. It is
accepted when the token parses, names this document, is signed by the key
``roles.yaml`` lists for its user, that user holds an approving role (only
``senior_reviewer`` once the request was escalated), is not the maker of the
document, and has not already approved it. Anything else is a refused attempt:
the caller records it and keeps waiting. An accepted rejection ends the
document at once; approvals count until ``approvals_required`` distinct
users have approved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from flows.roles import Role, RolesFile, SignedDecision, parse_token

__all__ = ["ApprovalRequest", "Verdict", "check_attempt"]

CLOCK_SKEW = timedelta(minutes=5)
TOKEN_LIFETIME = timedelta(days=7)


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str
    maker: str
    approvals_required: int
    senior_only: bool = False


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: SignedDecision | None
    role: Role | None = None
    refused_because: str | None = None

    @property
    def accepted(self) -> bool:
        return self.refused_because is None


def check_attempt(
    token: str, request: ApprovalRequest, roles: RolesFile, *, prior_approvers: set[str], now: datetime
) -> Verdict:
    """Accept or refuse one resume attempt; ``refused_because`` is a stable code for the ledger."""
    decision = parse_token(token)
    if decision is None:
        return Verdict(decision=None, refused_because="MALFORMED_TOKEN")
    statement = decision.statement
    user = roles.user(statement.user)
    refusal = None
    role = None
    if statement.doc != request.doc:
        refusal = "WRONG_DOCUMENT"
    elif user is None:
        refusal = "UNKNOWN_USER"
    elif not decision.verify(user):
        refusal = "BAD_SIGNATURE"
    elif not (now - TOKEN_LIFETIME <= statement.signed_at <= now + CLOCK_SKEW):
        refusal = "STALE_TOKEN"
    elif statement.user == request.maker:
        refusal = "MAKER_CANNOT_APPROVE"
    elif (role := _approving_role(user.roles, senior_only=request.senior_only)) is None:
        refusal = "ROLE_NOT_ALLOWED"
    elif statement.user in prior_approvers:
        refusal = "ALREADY_APPROVED_BY_USER"
    return Verdict(decision=decision, role=role if refusal is None else None, refused_because=refusal)


def _approving_role(roles: list[Role], *, senior_only: bool) -> Role | None:
    if Role.SENIOR_REVIEWER in roles:
        return Role.SENIOR_REVIEWER
    if Role.REVIEWER in roles and not senior_only:
        return Role.REVIEWER
    return None
