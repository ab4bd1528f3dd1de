"""Everything a report says, as one value both renderers (HTML and PDF) draw from.

Building the content once and rendering it twice is what keeps the HTML and
the PDF saying the same thing. Rows hold ids, codes, roles, counts and times
from the ledger, plus the masked identity a document's outbox record already
publishes (``reports.identify``): people find an invoice by its number and
supplier, not by a hash. The headline figures carry their definitions, so a
reader never has to guess what a percentage counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from docval.events import EntryKind
from ledger.bundle_verify import COUNT_KEYS, is_complete
from reports.cutoff import Cutoff
from reports.identify import UNKNOWN, Identity
from reports.kpis import Kpis, compute_kpis, format_duration, in_period, share
from reports.lineage import EXCEPTION_KINDS, DocLineage, LedgerEvent, LedgerFacts
from reports.payloads import Approver

__all__ = ["ExceptionRow", "Headline", "LineageRow", "ReportContent", "build_content", "headline", "lineage_row"]

_SHORT_KIND = {kind.value: kind.value.split(".", 1)[-1] for kind in EntryKind}


@dataclass(frozen=True, slots=True)
class Headline:
    """One figure of the report's first screen, with the sentence that defines it."""

    label: str
    value: str
    definition: str


@dataclass(frozen=True, slots=True)
class LineageRow:
    doc: str
    identity: Identity
    rule: str
    policy: str  # the first 12 hex digits of the policy version that decided, "-" when not ledgered
    kind: str
    steps: list[tuple[str, str]]  # (step, HH:MM:SS or date+time)
    tiers: str
    models: str
    findings: str
    decision: str
    approvers: str
    rejecters: str
    corrections: str
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
    headline: list[Headline]
    cutoff: Cutoff
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
    def accounted(self) -> str:
        """The COMPLETE verdict in words: where every document of the period is."""
        n = self.completeness
        return (
            f"Every document claimed in the period ({n['ingested']}) is accounted for: {n['published']} published, "
            f"{n['rejected']} rejected, {n['quarantined']} quarantined, {n['awaiting_approval']} waiting for people "
            f"and {n['processing']} still in processing. Every figure is computed from ledger entries the signed "
            "checkpoint covers."
        )

    @property
    def completeness_rows(self) -> list[tuple[str, int]]:
        return [(key, self.completeness[key]) for key in COUNT_KEYS]


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _fmt_rfc3339(text: str) -> str:
    """``2026-11-25T13:30:34.100029Z`` -> ``2026-11-25 13:30:34``, the same shape ``_fmt`` gives."""
    return text[:19].replace("T", " ")


def _people(signed: list[Approver]) -> str:
    """``bob (reviewer) 2026-12-04 10:00:00 "matches the order"``: who, in which role, when and why (masked)."""
    return (
        "; ".join(f'{person.user} ({person.role}) {_fmt_rfc3339(person.at)} "{person.reason}"' for person in signed)
        or "-"
    )


def lineage_row(lineage: DocLineage, where: str | None = None, identity: Identity = UNKNOWN) -> LineageRow:
    """``where``: the ledger(s) and seqs of the entries when the report covers shards (else the seq range)."""
    decision = lineage.state.value if lineage.state else "pending"
    if lineage.outcome is not None:
        decision = f"{decision} ({lineage.outcome.value})"
    seqs = [step.seq for step in lineage.steps]
    return LineageRow(
        doc=lineage.doc,
        identity=identity,
        rule=lineage.rule or "-",
        policy=lineage.policy[:12] if lineage.policy else "-",
        kind=lineage.kind.value if lineage.kind else "-",
        steps=[(_SHORT_KIND.get(step.kind, step.kind), _fmt_rfc3339(step.ts)) for step in lineage.steps],
        tiers=", ".join(sorted(lineage.tiers)) or "-",
        models=", ".join(sorted(lineage.models)) or "-",
        findings=", ".join(lineage.findings) or "-",
        decision=decision,
        approvers=_people(lineage.approvers),
        rejecters=_people(lineage.rejecters),
        corrections=", ".join(lineage.corrections) or "-",
        seqs=where or (f"{min(seqs)}–{max(seqs)}" if seqs else "-"),
    )


def _priority(lineage: DocLineage) -> tuple[int, Decimal, str]:
    """Exceptions first, the largest amounts first among them: an auditor asked about "the largest invoice
    of the month" finds it, its rule and who approved it on the first page; the clean majority is in
    lineage.csv."""
    odd = bool(
        lineage.findings
        or lineage.human_touched
        or lineage.state is None
        or lineage.conflicts
        or lineage.quarantine_reason
    )
    return (0 if odd else 1, -_amount(lineage.amount), lineage.claimed_at.isoformat() if lineage.claimed_at else "")


def _amount(text: str | None) -> Decimal:
    try:
        value = Decimal(text) if text else Decimal(0)
    except ArithmeticError:
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


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


def headline(kpis: Kpis) -> list[Headline]:
    """The first screen's figures, each defined in one sentence where it is shown."""
    fmt = format_duration
    return [
        Headline("documents received", str(kpis.ingested),
                 "Documents claimed from the inbox in the period; the same bytes dropped twice count once."),
        Headline("auto-approved", f"{share(kpis.auto_approved_share)} ({kpis.auto_approved} of {kpis.decided})",
                 "Published by the policy with no person involved, as a share of the documents that reached a "
                 "decision (published or rejected) in the period."),
        Headline("decided by people", f"{kpis.human_approved} approved, {kpis.human_rejected} rejected",
                 "Published after the approvals the policy asks for, or rejected by a person's signed decision."),
        Headline("rejected by the policy", str(kpis.rejected - kpis.human_rejected),
                 "Rejected by a policy rule (e.g. a hard finding) without anyone being asked."),
        Headline("corrected by reviewers", f"{share(kpis.corrected / kpis.ingested if kpis.ingested else None)} "
                 f"({kpis.corrected} of {kpis.ingested})",
                 "Documents whose extracted values a reviewer corrected (a signed doc.corrected entry, which opens a "
                 "new approval round) before the decision. A final decision is never reversed: a published or "
                 "rejected document stays so, so reversals are 0 by construction."),
        Headline("waiting for people", str(kpis.pending),
                 "Decided `needs approval` by the policy and not yet approved or rejected."),
        Headline("quarantined", str(kpis.quarantined),
                 "Files that could not be read safely (encrypted, malformed, too large), kept aside with a reason."),
        Headline("time to decision", f"median {fmt(kpis.decision_median_s)}, p95 {fmt(kpis.decision_p95_s)}",
                 "From the claim of a document to its final state (published, rejected or quarantined)."),
        Headline("approval turnaround",
                 f"median {fmt(kpis.approval_turnaround_median_s)}, p95 {fmt(kpis.approval_turnaround_p95_s)}",
                 "From the policy's request for approval to the last person's decision."),
    ]  # fmt: skip


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
    cutoff: Cutoff,
    identities: dict[str, Identity],
    where: dict[str, str] | None = None,
    witness_status: str = "no witnesses configured",
) -> tuple[ReportContent, list[DocLineage]]:
    """The report content and every in-scope lineage (for ``lineage.csv``), in claim order."""
    scope = [lineage for lineage in facts.docs.values() if in_period(lineage.claimed_at, start, end)]
    events = [event for event in facts.events if in_period(event.ts, start, end)]
    shown = sorted(scope, key=_priority)[:lineage_limit]
    kpis = compute_kpis(scope, events, facts.events)
    where = where or {}
    content = ReportContent(
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        origin=origin,
        checkpoint_note=checkpoint_note,
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        kpis=kpis,
        headline=headline(kpis),
        cutoff=cutoff,
        lineage=[lineage_row(d, where.get(d.doc), identities.get(d.doc, UNKNOWN)) for d in shown],
        lineage_total=len(scope),
        exceptions=_exceptions(events),
        completeness=completeness,
        complete=is_complete(completeness) and not mismatches and not cutoff.uncovered,
        statement_note=statement_note,
        mismatches=mismatches,
        table_limit=lineage_limit,
        witness_status=witness_status,
    )
    return content, scope
