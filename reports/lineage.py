"""Fold ledger entries into one lineage per document plus the installation-wide events.

The report never reprocesses a document: everything it says comes from the
entries the flows wrote, read through the payload models of ``docval.events``
so a renamed field fails here instead of silently reporting zeros. One pass
over the entries, O(1) work per entry, because the benchmark folds a million.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from docval.domain import DocKind, DocState, Outcome
from docval.events import (
    ApprovalPayload,
    BudgetExceededPayload,
    ConfigAppliedPayload,
    DecidedPayload,
    EntryKind,
    EscalatedPayload,
    EvalGatePayload,
    ExtractedPayload,
    MaskedPayload,
    QuarantinedPayload,
    ValidatedPayload,
)
from reports.errors import ReportError

__all__ = ["DocLineage", "LedgerEvent", "LedgerFacts", "LedgerRecord", "Step", "fold_entries", "parse_ts"]


class LedgerRecord(Protocol):
    """What the report reads of a ledger entry (``ledger.Entry`` has these and more)."""

    seq: int
    ts: str
    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any]


# Payload models the report interprets; other kinds are listed as steps/events without interpretation.
_MODELS: dict[str, type[BaseModel]] = {
    EntryKind.EXTRACTED: ExtractedPayload,
    EntryKind.VALIDATED: ValidatedPayload,
    EntryKind.MASKED: MaskedPayload,
    EntryKind.DECIDED: DecidedPayload,
    EntryKind.QUARANTINED: QuarantinedPayload,
    EntryKind.APPROVAL_GRANTED: ApprovalPayload,
    EntryKind.APPROVAL_REFUSED: ApprovalPayload,
    EntryKind.APPROVAL_ESCALATED: EscalatedPayload,
    EntryKind.BUDGET_EXCEEDED: BudgetExceededPayload,
    EntryKind.CONFIG_APPLIED: ConfigAppliedPayload,
    EntryKind.EVAL_GATE: EvalGatePayload,
}

# Entries that put a document into its final state (DESIGN "Life of a document" 2 and 8).
TERMINAL_STATES: dict[str, DocState] = {
    EntryKind.PUBLISHED: DocState.PUBLISHED,
    EntryKind.REJECTED: DocState.REJECTED,
    EntryKind.QUARANTINED: DocState.QUARANTINED,
}

# Installation events the exceptions section lists even without a document.
EXCEPTION_KINDS = frozenset(
    {
        EntryKind.QUARANTINED,
        EntryKind.APPROVAL_ESCALATED,
        EntryKind.APPROVAL_REFUSED,
        EntryKind.PII_REVEALED,
        EntryKind.PII_ERASED,
        EntryKind.KEY_ROTATED,
        EntryKind.BUDGET_EXCEEDED,
        EntryKind.DUPLICATE,
        EntryKind.ANCHOR_REFUSED,
    }
)


def parse_ts(text: str) -> datetime:
    """RFC 3339 UTC (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(text)


@dataclass(slots=True)
class Step:
    seq: int
    ts: str  # RFC 3339 as written: formatting it is slicing, a million times cheaper than strftime
    kind: str
    actor: str


@dataclass(slots=True)
class DocLineage:
    """Everything the ledger says about one document, in ledger order."""

    doc: str
    steps: list[Step] = field(default_factory=list)
    kind: DocKind | None = None
    claimed_at: datetime | None = None
    decided_at: datetime | None = None
    final_at: datetime | None = None
    state: DocState | None = None
    outcome: Outcome | None = None
    findings: list[str] = field(default_factory=list)
    tiers: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    approvals: list[ApprovalPayload] = field(default_factory=list)
    approval_requested_at: datetime | None = None
    refusals: int = 0
    escalated: bool = False
    entities: dict[str, int] = field(default_factory=dict)
    extraction: ExtractedPayload | None = None
    quarantine_reason: str | None = None
    conflicts: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """Waiting for a human: decided ``needs_approval`` and not yet in a final state."""
        return self.state is None and self.outcome is Outcome.NEEDS_APPROVAL

    @property
    def human_touched(self) -> bool:
        return bool(self.approvals) or self.refusals > 0 or self.outcome is Outcome.NEEDS_APPROVAL


@dataclass(slots=True)
class LedgerEvent:
    """An entry the exceptions/config sections list: quarantines, reveals, key rotations, budgets, ..."""

    seq: int
    ts: datetime
    kind: str
    doc: str | None
    actor: str
    payload: BaseModel | dict[str, Any]


@dataclass(slots=True)
class LedgerFacts:
    docs: dict[str, DocLineage] = field(default_factory=dict)
    events: list[LedgerEvent] = field(default_factory=list)
    entries: int = 0


def fold_entries(records: Iterable[LedgerRecord]) -> LedgerFacts:
    """One pass over the ledger in seq order; raises ReportError naming the seq of an unreadable payload."""
    facts = LedgerFacts()
    docs = facts.docs
    for record in records:
        facts.entries += 1
        kind = record.kind
        model = _MODELS.get(kind)
        try:
            payload: BaseModel | dict[str, Any] = model.model_validate(record.data) if model else record.data
        except ValidationError as exc:
            raise ReportError(
                f"ledger seq {record.seq}: {kind} payload does not match docval.events: "
                f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            ) from None
        ts = parse_ts(record.ts)
        if kind in EXCEPTION_KINDS or record.doc is None:
            facts.events.append(LedgerEvent(record.seq, ts, kind, record.doc, record.actor, payload))
        if record.doc is None:
            continue
        lineage = docs.get(record.doc)
        if lineage is None:
            lineage = docs[record.doc] = DocLineage(record.doc)
        lineage.steps.append(Step(record.seq, record.ts, kind, record.actor))
        _apply(lineage, kind, ts, payload)
    return facts


def _apply(lineage: DocLineage, kind: str, ts: datetime, payload: Any) -> None:
    """Update one document's lineage with one entry; small branches, no lookups beyond the entry."""
    if kind == EntryKind.CLAIMED:
        if lineage.claimed_at is None:
            lineage.claimed_at = ts
    elif kind == EntryKind.EXTRACTED:
        lineage.kind = payload.kind
        lineage.extraction = payload
        lineage.tiers.update(str(spec.get("tier")) for spec in payload.fields.values() if spec.get("tier"))
        for call in payload.calls:
            lineage.tiers.add(str(call.tier))
            lineage.models.add(call.model)
    elif kind == EntryKind.VALIDATED:
        lineage.findings.extend(finding.code for finding in payload.findings)
    elif kind == EntryKind.MASKED:
        for entity, count in payload.entities.items():
            lineage.entities[entity] = lineage.entities.get(entity, 0) + count
    elif kind == EntryKind.DECIDED:
        lineage.outcome = payload.outcome
        lineage.decided_at = ts
    elif kind == EntryKind.APPROVAL_REQUESTED:
        lineage.approval_requested_at = lineage.approval_requested_at or ts
    elif kind == EntryKind.APPROVAL_GRANTED:
        lineage.approvals.append(payload)
    elif kind == EntryKind.APPROVAL_REFUSED:
        lineage.refusals += 1
    elif kind == EntryKind.APPROVAL_ESCALATED:
        lineage.escalated = True
    if kind in TERMINAL_STATES:
        state = TERMINAL_STATES[kind]
        if kind == EntryKind.QUARANTINED:
            lineage.quarantine_reason = payload.reason
        if lineage.state is not None and lineage.state is not state:
            lineage.conflicts.append(f"{lineage.state.value} then {state.value}")
        lineage.state = state
        lineage.final_at = ts
