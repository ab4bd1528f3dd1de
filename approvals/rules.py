"""Who may decide, as small rules that each check one thing and say why they refuse.

The gate is ``all_of`` these rules; a refusal lists every rule that failed, in
words a reviewer can act on ("3 of 9 rules refused: …"). Rules are pure: they
see an ``Attempt`` (the signed statement, the document's folded state, the
roster, the time) and touch nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from approvals.errors import ApprovalsError
from approvals.people import Roster
from approvals.roles import DECIDING_ROLES, Role
from approvals.signatures import verify_signature
from approvals.state import ApprovalState
from approvals.statement import DecisionStatement

__all__ = ["GATE", "Attempt", "Rule", "all_of", "counted_role"]

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Attempt:
    statement: DecisionStatement
    signature: dict[str, Any]
    state: ApprovalState
    roster: Roster
    now: datetime

    @property
    def senior_only(self) -> bool:
        """Past the deadline (escalated or not yet) only a senior reviewer may decide: fail closed."""
        deadline = self.state.deadline
        return self.state.escalated or (deadline is not None and self.now >= deadline)


Rule = Callable[[Attempt], str | None]


def counted_role(roles: frozenset[Role], *, senior_only: bool) -> Role | None:
    """The role a decision counts under: the strongest deciding role the person holds, if it is allowed now."""
    allowed = DECIDING_ROLES[:1] if senior_only else DECIDING_ROLES
    return next((role for role in allowed if role in roles), None)


def right_document(attempt: Attempt) -> str | None:
    if attempt.statement.doc != attempt.state.doc:
        return "the statement is for another document"
    return None


def round_open(attempt: Attempt) -> str | None:
    state = attempt.state
    if state.final is not None or state.outcome is not None:
        return f"the document is already decided ({state.final or state.outcome})"
    if state.round is None:
        return "the document does not wait for approval"
    if attempt.statement.round != state.round:
        return "the statement is for an earlier approval round; sign the current one"
    return None


def same_fields(attempt: Attempt) -> str | None:
    if attempt.statement.fields_sha256 != attempt.state.fields_sha256:
        return "the field values signed for are not the document's current values"
    return None


def enrolled(attempt: Attempt) -> str | None:
    if attempt.roster.person(attempt.statement.signer) is None:
        return f"{attempt.statement.signer} is not enrolled"
    return None


def key_matches(attempt: Attempt) -> str | None:
    person = attempt.roster.person(attempt.statement.signer)
    if person is None:
        return None  # said by ``enrolled``
    try:
        verify_signature(person.key, attempt.statement.message(), attempt.signature)
    except ApprovalsError as exc:
        return f"signature not valid for {person.name}'s enrolled key: {exc}"
    return None


def role_allowed(attempt: Attempt) -> str | None:
    person = attempt.roster.person(attempt.statement.signer)
    if person is None:
        return None
    if counted_role(person.roles, senior_only=attempt.senior_only) is None:
        needed = "senior_reviewer (the deadline has passed)" if attempt.senior_only else "reviewer or senior_reviewer"
        return f"{person.name} does not hold the role {needed}"
    return None


def not_the_maker(attempt: Attempt) -> str | None:
    if attempt.statement.signer == attempt.state.maker:
        return f"{attempt.statement.signer} submitted this document and cannot decide on it"
    return None


def not_already_counted(attempt: Attempt) -> str | None:
    if attempt.state.decided_by(attempt.statement.signer):
        return f"{attempt.statement.signer} has already decided in this round; another person must decide"
    return None


def signed_recently(attempt: Attempt) -> str | None:
    try:
        signed_at = datetime.fromisoformat(attempt.statement.signed_at)
    except ValueError:
        return "signed_at is not an RFC 3339 time"
    if signed_at.tzinfo is None or signed_at > attempt.now + CLOCK_SKEW:
        return "signed_at is in the future or has no time zone"
    return None


@dataclass(frozen=True)
class AllOf:
    rules: Sequence[Rule]

    def __post_init__(self) -> None:
        if not self.rules:  # an empty gate would accept everything: fail closed
            raise ApprovalsError("a gate needs at least one rule")

    def __call__(self, attempt: Attempt) -> list[str]:
        """Every refusal reason; an empty list means accepted."""
        return [reason for rule in self.rules if (reason := rule(attempt)) is not None]


def all_of(*rules: Rule) -> AllOf:
    return AllOf(rules)


GATE = all_of(
    right_document,
    round_open,
    same_fields,
    enrolled,
    key_matches,
    role_allowed,
    not_the_maker,
    not_already_counted,
    signed_recently,
)
