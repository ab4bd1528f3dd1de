"""A document's approval state as a pure fold of its ledger entries.

No process waits for a document: whoever needs its state (the decision
recorder under the ledger's write lock, ``docval pending``, the workbench, the
report, the publish flow) folds the same entries the same way. Each
``approval.requested`` opens a round; only decisions naming the current round
count, so a correction (which opens a new round) voids earlier approvals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from approvals.entries import APPROVAL_GRANTED, DecisionPayload
from approvals.people import Fact
from approvals.roles import Role

__all__ = ["ApprovalState", "Counted", "fold_state"]

REQUESTED = "approval.requested"
ESCALATED = "approval.escalated"
_FINAL = {"doc.published": "published", "doc.rejected": "rejected"}


@dataclass(frozen=True)
class Counted:
    """One counted decision: who, under which role, when (the ledger's time), at which seq."""

    person: str
    role: Role
    at: str
    seq: int


@dataclass(frozen=True)
class ApprovalState:
    doc: str
    maker: str | None = None
    rule: str | None = None
    policy: str = ""
    round: str | None = None
    fields_sha256: str | None = None
    approvals_required: int = 0
    deadline: datetime | None = None
    escalated: bool = False
    approvals: tuple[Counted, ...] = ()
    rejections: tuple[Counted, ...] = ()
    final: Literal["published", "rejected"] | None = None
    findings: tuple[str, ...] = field(default=())

    @property
    def outcome(self) -> Literal["publish", "reject"] | None:
        """What the counted decisions call for (the publish flow carries it out); None while waiting."""
        if self.rejections:
            return "reject"
        if self.round is not None and len(self.approvals) >= self.approvals_required:
            return "publish"
        return None

    @property
    def waiting(self) -> bool:
        return self.round is not None and self.final is None and self.outcome is None

    def decided_by(self, person: str) -> bool:
        return any(counted.person == person for counted in (*self.approvals, *self.rejections))


def fold_state(doc: str, facts: Iterable[Fact]) -> ApprovalState:
    """The state after the document's entries, in seq order."""
    state = ApprovalState(doc=doc)
    for fact in facts:
        state = _step(state, fact)
    return state


def _step(state: ApprovalState, fact: Fact) -> ApprovalState:
    data = fact.data
    if fact.kind == "doc.claimed":
        return replace(state, maker=fact.actor)
    if fact.kind == "doc.validated":
        return replace(state, findings=tuple(sorted({finding["code"] for finding in data.get("findings", [])})))
    if fact.kind == "doc.decided":
        return replace(state, rule=data.get("rule"), policy=data.get("policy", ""))
    if fact.kind == REQUESTED:
        return replace(
            state,
            round=data.get("round"),  # None in ledgers from before signed rounds: nothing can count
            fields_sha256=data.get("fields_sha256"),
            approvals_required=data["approvals_required"],
            deadline=datetime.fromisoformat(data["deadline"]),
            escalated=False,
            approvals=(),
            rejections=(),
        )
    if fact.kind == ESCALATED:
        return replace(state, escalated=True)
    if fact.kind == APPROVAL_GRANTED:
        payload = DecisionPayload.model_validate(data)
        if payload.statement.round != state.round:
            return state  # a decision of an earlier round: recorded, no longer counted
        counted = Counted(payload.statement.signer, payload.role, fact.ts, fact.seq)
        if payload.statement.decision == "approve":
            return replace(state, approvals=(*state.approvals, counted))
        return replace(state, rejections=(*state.rejections, counted))
    if fact.kind in _FINAL:
        return replace(state, final=_FINAL[fact.kind])  # type: ignore[arg-type]
    return state
