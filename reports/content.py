"""Everything a report says, as one value both renderers (HTML and PDF) draw from.

Building the content once and rendering it twice is what keeps the HTML and
the PDF saying the same thing. Rows hold ids, codes, roles, counts and times
only: the ledger holds nothing else, and the report adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from docval.events import EntryKind
from ledger.bundle_verify import COUNT_KEYS, is_complete
from reports.kpis import Kpis, compute_kpis, in_period
from reports.lineage import EXCEPTION_KINDS, DocLineage, LedgerEvent, LedgerFacts

__all__ = ["ExceptionRow", "LineageRow", "ReportContent", "build_content", "lineage_row"]

_SHORT_KIND = {kind.value: kind.value.split(".", 1)[-1] for kind in EntryKind}


@dataclass(frozen=True, slots=True)
class LineageRow:
    doc: str
    kind: str
    steps: list[tuple[str, str]]  # (step, HH:MM:SS or date+time)
    tiers: str
    models: str
    findings: str
    decision: str
    approvers: str
    seqs: str


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    ts: str
    seq: str  # "7" in the root ledger, "w2 7" in shard w2
    kind: str
    doc: str
    actor: str
    detail: str


@dataclass(frozen=True, slots=True)
class ReportContent:
    period_from: str
    period_to: str
    origin: str
    checkpoint_note: str
    checkpoint_size: int
    checkpoint_root: str
    kpis: Kpis
    lineage: list[LineageRow]
    lineage_total: int
    exceptions: list[ExceptionRow]
    completeness: dict[str, int]
    complete: bool
    statement_note: str
    mismatches: list[str]
    table_limit: int
    witness_status: str = "no witnesses configured"

    @property
    def completeness_rows(self) -> list[tuple[str, int]]:
        return [(key, self.completeness[key]) for key in COUNT_KEYS]


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _fmt_rfc3339(text: str) -> str:
    """``2026-11-25T13:30:34.100029Z`` -> ``2026-11-25 13:30:34``, the same shape ``_fmt`` gives."""
    return text[:19].replace("T", " ")


def lineage_row(lineage: DocLineage, where: str | None = None) -> LineageRow:
    """``where``: the ledger(s) and seqs of the entries when the report covers shards (else the seq range)."""
    decision = lineage.state.value if lineage.state else "pending"
    if lineage.outcome is not None:
        decision = f"{decision} ({lineage.outcome.value})"
    seqs = [step.seq for step in lineage.steps]
    return LineageRow(
        doc=lineage.doc,
        kind=lineage.kind.value if lineage.kind else "-",
        steps=[(_SHORT_KIND.get(step.kind, step.kind), _fmt_rfc3339(step.ts)) for step in lineage.steps],
        tiers=", ".join(sorted(lineage.tiers)) or "-",
        models=", ".join(sorted(lineage.models)) or "-",
        findings=", ".join(lineage.findings) or "-",
        decision=decision,
        approvers=", ".join(f"{a.user} ({a.role})" for a in lineage.approvals) or "-",
        seqs=where or (f"{min(seqs)}–{max(seqs)}" if seqs else "-"),
    )


def _priority(lineage: DocLineage) -> tuple[int, str]:
    """Exceptions first: an auditor reads the odd documents, the clean majority is in lineage.csv."""
    odd = bool(
        lineage.findings
        or lineage.human_touched
        or lineage.state is None
        or lineage.conflicts
        or lineage.quarantine_reason
    )
    return (0 if odd else 1, lineage.claimed_at.isoformat() if lineage.claimed_at else "")


def _detail(payload: BaseModel | dict[str, Any]) -> str:
    """A one-line summary of an event payload: its keys and values, which by contract are ids and codes."""
    values = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return "; ".join(
        f"{key}={value}"
        for key, value in values.items()
        if key not in {"signature"} and value not in (None, "", [], {})
    )


def _exceptions(events: list[LedgerEvent]) -> list[ExceptionRow]:
    return [
        ExceptionRow(_fmt(e.ts), e.at, e.kind, e.doc or "-", e.actor, _detail(e.payload))
        for e in events
        if e.kind in EXCEPTION_KINDS
    ]


def build_content(
    facts: LedgerFacts,
    *,
    start: datetime,
    end: datetime,
    origin: str,
    checkpoint_note: str,
    checkpoint_size: int,
    checkpoint_root: str,
    completeness: dict[str, int],
    statement_note: str,
    lineage_limit: int,
    mismatches: list[str],
    where: dict[str, str] | None = None,
    witness_status: str = "no witnesses configured",
) -> tuple[ReportContent, list[DocLineage]]:
    """The report content and every in-scope lineage (for ``lineage.csv``), in claim order."""
    scope = [lineage for lineage in facts.docs.values() if in_period(lineage.claimed_at, start, end)]
    events = [event for event in facts.events if in_period(event.ts, start, end)]
    shown = sorted(scope, key=_priority)[:lineage_limit]
    content = ReportContent(
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        origin=origin,
        checkpoint_note=checkpoint_note,
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        kpis=compute_kpis(scope, events, facts.events),
        lineage=[lineage_row(lineage, (where or {}).get(lineage.doc)) for lineage in shown],
        lineage_total=len(scope),
        exceptions=_exceptions(events),
        completeness=completeness,
        complete=is_complete(completeness) and not mismatches,
        statement_note=statement_note,
        mismatches=mismatches,
        table_limit=lineage_limit,
        witness_status=witness_status,
    )
    return content, scope
