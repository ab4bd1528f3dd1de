"""Fold ledger entries into one lineage per document plus the installation-wide events.

The report never reprocesses a document: everything it says comes from the
entries the flows wrote, read against the payload models of ``docval.events``
so a renamed field fails here instead of silently reporting zeros. One pass
over the entries, O(1) work per entry, because the benchmark folds a million:
the five payload kinds every document has are read through
``reports.payloads`` (only the values the report uses, type-checked), the rare
rest through their models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from approvals.entries import RefusedPayload
from docval.domain import DocKind, DocState, Outcome
from docval.events import (
    BudgetExceededPayload,
    ConfigAppliedPayload,
    EntryKind,
    EscalatedPayload,
    EvalGatePayload,
    QuarantinedPayload,
)
from reports.errors import ReportError
from reports.payloads import FACT_KINDS, Approver, Decided, Extraction, Facts, facts_of, read_facts

__all__ = [
    "DocLineage",
    "LedgerEvent",
    "LedgerFacts",
    "LedgerRecord",
    "LineageFolder",
    "Step",
    "fold_entries",
    "parse_ts",
]


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
    **FACT_KINDS,
    EntryKind.QUARANTINED: QuarantinedPayload,
    EntryKind.APPROVAL_REFUSED: RefusedPayload,
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
    rule: str | None = None
    policy: str | None = None
    amount: str | None = None
    findings: list[str] = field(default_factory=list)
    tiers: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    approvals: list[Approver] = field(default_factory=list)  # signed decisions, approvals and rejections
    approval_requested_at: datetime | None = None
    refusals: int = 0
    escalated: bool = False
    entities: dict[str, int] = field(default_factory=dict)
    extraction: Extraction | None = None
    quarantine_reason: str | None = None
    conflicts: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)  # "field by person", from signed doc.corrected entries

    @property
    def pending(self) -> bool:
        """Waiting for a human: decided ``needs_approval`` and not yet in a final state."""
        return self.state is None and self.outcome is Outcome.NEEDS_APPROVAL

    @property
    def approvers(self) -> list[Approver]:
        return [signed for signed in self.approvals if signed.decision == "approve"]

    @property
    def rejecters(self) -> list[Approver]:
        return [signed for signed in self.approvals if signed.decision == "reject"]

    @property
    def human_touched(self) -> bool:
        return bool(self.approvals or self.corrections) or self.refusals > 0 or self.outcome is Outcome.NEEDS_APPROVAL


@dataclass(slots=True)
class LedgerEvent:
    """An entry the exceptions/config sections list: quarantines, reveals, key rotations, budgets, ..."""

    seq: int
    ts: datetime
    kind: str
    doc: str | None
    actor: str
    payload: BaseModel | dict[str, Any]
    shard: str | None = None  # None: the root ledger; seqs count per ledger, so (shard, seq) names an entry

    @property
    def at(self) -> str:
        """Where an auditor finds the entry: its seq, prefixed by the shard's name when it is in one."""
        return str(self.seq) if self.shard is None else f"{self.shard} {self.seq}"


@dataclass(slots=True)
class LedgerFacts:
    docs: dict[str, DocLineage] = field(default_factory=dict)
    events: list[LedgerEvent] = field(default_factory=list)
    entries: int = 0


class LineageFolder:
    """Folds entries one at a time, in seq order, into ``facts``.

    ``validate`` checks every interpreted payload against its ``docval.events`` model (what
    ``fold_entries`` does by default); without it the per-document kinds are read through
    ``reports.payloads`` (the report's bulk path). Either way an unreadable payload raises ReportError
    naming its seq.
    """

    def __init__(self, *, validate: bool) -> None:
        self.facts = LedgerFacts()
        self.validate = validate

    def add(
        self, seq: int, ts: str, kind: str, doc: str | None, actor: str, data: Any, shard: str | None = None
    ) -> None:
        facts = self.facts
        facts.entries += 1
        payload = self._payload(seq, kind, doc, data)
        if kind in EXCEPTION_KINDS or doc is None:
            facts.events.append(LedgerEvent(seq, parse_ts(ts), kind, doc, actor, payload, shard))
        if doc is None:
            return
        lineage = facts.docs.get(doc)
        if lineage is None:
            lineage = facts.docs[doc] = DocLineage(doc)
        lineage.steps.append(Step(seq, ts, kind, actor))
        _apply(lineage, kind, ts, payload)

    def _payload(self, seq: int, kind: str, doc: str | None, data: Any) -> BaseModel | Facts | dict[str, Any]:
        model = _MODELS.get(kind)
        if model is None:
            return data
        try:
            if doc is None or kind not in FACT_KINDS:  # installation events and exceptions: few, kept whole
                return model.model_validate(data)
            return facts_of(kind, model.model_validate(data)) if self.validate else read_facts(kind, data)
        except ValidationError as exc:
            raise ReportError(
                f"ledger seq {seq}: {kind} payload does not match docval.events: "
                f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            ) from None


def fold_entries(records: Iterable[LedgerRecord], *, validate: bool = True) -> LedgerFacts:
    """One pass over the ledger in seq order; raises ReportError naming the seq of an unreadable payload."""
    folder = LineageFolder(validate=validate)
    for record in records:
        folder.add(record.seq, record.ts, record.kind, record.doc, record.actor, record.data)
    return folder.facts


def _apply(lineage: DocLineage, kind: str, ts: str, payload: Any) -> None:
    """Update one document's lineage with one entry; small branches, no lookups beyond the entry.

    Timestamps are parsed only where a figure needs them: most entries are steps, shown as written.
    """
    if kind == EntryKind.CLAIMED:
        if lineage.claimed_at is None:
            lineage.claimed_at = parse_ts(ts)
    elif kind == EntryKind.EXTRACTED:
        lineage.kind = payload.kind
        lineage.extraction = payload
        lineage.tiers |= payload.tiers
        lineage.models |= payload.models
    elif kind == EntryKind.VALIDATED:
        lineage.findings.extend(payload)
    elif kind == EntryKind.MASKED:
        for entity, count in payload.items():
            lineage.entities[entity] = lineage.entities.get(entity, 0) + count
    elif kind == EntryKind.DECIDED:
        decided: Decided = payload
        lineage.outcome, lineage.rule, lineage.amount = decided.outcome, decided.rule, decided.amount
        lineage.policy = decided.policy or None
        lineage.decided_at = parse_ts(ts)
    elif kind == EntryKind.APPROVAL_REQUESTED:
        lineage.approval_requested_at = lineage.approval_requested_at or parse_ts(ts)
    elif kind == EntryKind.APPROVAL_GRANTED:
        lineage.approvals.append(payload)
    elif kind == EntryKind.APPROVAL_REFUSED:
        lineage.refusals += 1
    elif kind == EntryKind.APPROVAL_ESCALATED:
        lineage.escalated = True
    elif kind == EntryKind.CORRECTED:  # few per document: read as stored, never re-validated here
        signed = payload.get("statement", {}) if isinstance(payload, dict) else {}
        lineage.corrections.append(f"{signed.get('field', '?')} by {signed.get('signer', '?')}")
    if kind in TERMINAL_STATES:
        state = TERMINAL_STATES[kind]
        if kind == EntryKind.QUARANTINED:
            lineage.quarantine_reason = payload.reason
        if lineage.state is not None and lineage.state is not state:
            lineage.conflicts.append(f"{lineage.state.value} then {state.value}")
        lineage.state = state
        lineage.final_at = parse_ts(ts)
