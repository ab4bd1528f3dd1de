"""Recording decisions and enrolment changes: verify, count and append under the ledger's write lock.

``Ledger.append_with`` reads and appends in one exclusive transaction, so two
decisions racing on one document are counted one after the other: the second
sees the first and is refused if it comes from the same person. Every attempt
is ledgered: ``approval.granted`` when every rule passes, ``approval.refused``
with every reason otherwise. Nothing here publishes: the caller starts the
publish flow when ``Recorded.state.outcome`` says the document is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from approvals.entries import (
    APPROVAL_GRANTED,
    APPROVAL_REFUSED,
    PERSON_CHANGED,
    DecisionPayload,
    EnrolmentPayload,
    RefusedPayload,
)
from approvals.people import Roster, apply_enrolment, fold_roster
from approvals.rules import GATE, Attempt, counted_role
from approvals.state import ApprovalState, fold_state
from approvals.statement import DecisionStatement
from ledger import EntryDraft, Ledger, LedgerReader

__all__ = ["RECORDER", "Recorded", "read_roster", "record_decision", "record_enrolment"]

RECORDER = "docval-approvals"  # actor of entries the appliance writes about attempts it refused


@dataclass(frozen=True)
class Recorded:
    accepted: bool
    seq: int
    reasons: list[str]
    state: ApprovalState


def read_roster(ledger: Ledger) -> Roster:
    """Who is enrolled now, folded from this ledger's enrolment entries (the root's, in a cluster)."""
    with ledger.reader() as reader:
        return _roster(reader)


def _roster(reader: LedgerReader) -> Roster:
    return fold_roster(reader.entries_of_kind([PERSON_CHANGED]))


def record_decision(
    ledger: Ledger,
    statement: DecisionStatement,
    signature: dict[str, Any],
    *,
    roster_ledger: Ledger | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Check one signed decision against the ledger as it is under the lock, and ledger the verdict.

    ``roster_ledger``: the ledger holding the enrolment when it is not ``ledger`` (a cluster's root, for a
    document of a shard). Its shared lock is taken first and held until the decision is appended, and the
    roster is folded under it, so an enrolment change (a demotion, a removal) is either ledgered before and
    seen, or waits until the decision is in: never ledgered in between. The lock order is root, then shard,
    as the anchor's (it writes the root and reads the shards). Workers read the root while holding their
    shard, but a read waits for no shared lock, and nothing takes a shard's write lock and then the root's
    write lock, so no wait cycle can form (docs/security.md, "Cluster").
    """
    if roster_ledger is None or roster_ledger.db_path == ledger.db_path:
        return _record(ledger, statement, signature, None, now)
    with roster_ledger.reader() as root:  # held across the append: enrolment cannot change in between
        return _record(ledger, statement, signature, _roster(root), now)


def _record(
    ledger: Ledger, statement: DecisionStatement, signature: dict[str, Any], roster: Roster | None, now: datetime | None
) -> Recorded:
    """``record_decision`` with the roster read already (None: fold it from ``ledger`` under its own lock)."""
    verdict: list[list[str]] = []  # the reasons seen under the lock (build may run once only)

    def build(reader: LedgerReader) -> list[EntryDraft]:
        state = fold_state(statement.doc, reader.entries_for_doc(statement.doc))
        people = roster if roster is not None else _roster(reader)
        attempt = Attempt(statement, signature, state, people, now or datetime.now(UTC))
        reasons = GATE(attempt)
        verdict.append(reasons)
        if reasons:
            refused = RefusedPayload(
                statement=statement.model_dump(mode="json"), signature=signature, refused_because=reasons
            )
            return [EntryDraft(APPROVAL_REFUSED, statement.doc, RECORDER, refused.model_dump(mode="json"))]
        person = people.people[statement.signer]
        granted = DecisionPayload(
            statement=statement,
            signature=signature,
            role=counted_role(person.roles, senior_only=attempt.senior_only),
            roster_version=people.version,
            policy=state.policy,
        )
        return [EntryDraft(APPROVAL_GRANTED, statement.doc, statement.signer, granted.model_dump(mode="json"))]

    seqs, _ = ledger.append_with(build)
    reasons = verdict[-1]
    state = fold_state(statement.doc, ledger.entries_for_doc(statement.doc))
    return Recorded(accepted=not reasons, seq=seqs[0], reasons=reasons, state=state)


def record_enrolment(ledger: Ledger, payload: EnrolmentPayload) -> int:
    """Append one admin-signed roster change if it is valid against the roster under the lock; its seq."""

    def build(reader: LedgerReader) -> list[EntryDraft]:
        apply_enrolment(_roster(reader), payload)  # raises ApprovalsError, appending nothing
        actor = payload.signatures[0].signer if payload.signatures else payload.statement.person  # the anchor
        return [EntryDraft(PERSON_CHANGED, None, actor, payload.model_dump(mode="json"))]

    seqs, _ = ledger.append_with(build)
    return seqs[0]
