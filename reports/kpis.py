"""Key figures of a reporting period, computed from document lineages and ledger events.

Pure functions over ``reports.lineage`` values: nothing here reads files or
the clock, so the same ledger always yields the same figures (the bundle's
determinism and the tests rely on it). Durations are reported in seconds,
money as decimal strings, exactly as the ledger carries it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from docval.domain import DocState
from docval.events import ConfigAppliedPayload, EntryKind, EvalGatePayload
from reports.lineage import DocLineage, LedgerEvent

__all__ = [
    "ConfigVersion",
    "EvalGate",
    "Kpis",
    "Person",
    "TierCost",
    "compute_kpis",
    "format_duration",
    "in_period",
    "kpi_rows",
    "share",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TierCost(_Model):
    tier: str
    calls: int
    failed_calls: int
    tokens: int
    usd: str


class ConfigVersion(_Model):
    name: str
    version: str
    sha256: str
    since: str


class Person(_Model):
    """Who was enrolled at the end of the period, as the ledger's signed enrolment says."""

    name: str
    roles: list[str]
    demo: bool
    since: str


class EvalGate(_Model):
    ts: str
    suite: str
    metric: str
    value: float
    threshold: float
    passed: bool


class Kpis(_Model):
    ingested: int
    auto_approved: int
    human_approved: int
    rejected: int
    human_rejected: int
    quarantined: int
    pending: int
    decided: int
    auto_approved_share: float | None
    corrected: int
    people: list[Person]
    decision_median_s: float | None
    decision_p95_s: float | None
    approval_turnaround_median_s: float | None
    approval_turnaround_p95_s: float | None
    findings: dict[str, int]
    pii_entities: dict[str, int]
    tier_costs: list[TierCost]
    total_usd: str
    usd_per_document: str
    budget_breaches: int
    eval_gates: list[EvalGate]
    configs: list[ConfigVersion]
    prompt_versions: dict[str, str]
    volume_by_day: dict[str, int]
    outcome_mix: dict[str, int]


def in_period(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _quantiles(values: list[float]) -> tuple[float | None, float | None]:
    """Median and nearest-rank p95; None when there is nothing to measure (never a made-up zero)."""
    if not values:
        return None, None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]
    return statistics.median(ordered), p95


def _tier_costs(docs: Iterable[DocLineage]) -> list[TierCost]:
    calls: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    usd: dict[str, Decimal] = {}
    for lineage in docs:
        if lineage.extraction is None:
            continue
        for call in lineage.extraction.calls:
            tier = call.tier
            calls[tier] += 1
            failed[tier] += not call.ok
            tokens[tier] += call.tokens
            usd[tier] = usd.get(tier, Decimal(0)) + call.usd
    return [
        TierCost(tier=tier, calls=calls[tier], failed_calls=failed[tier], tokens=tokens[tier], usd=str(usd[tier]))
        for tier in sorted(calls)
    ]


def compute_kpis(docs: list[DocLineage], events: list[LedgerEvent], all_events: list[LedgerEvent]) -> Kpis:
    """Figures for the documents in scope (``docs``) and the period's events; ``all_events`` for config in force."""
    states = Counter(lineage.state for lineage in docs)
    published = [lineage for lineage in docs if lineage.state is DocState.PUBLISHED]
    auto = sum(1 for lineage in published if not lineage.human_touched)
    # Published or rejected: quarantined files never reached a decision, waiting ones have none yet.
    decided = [lineage for lineage in docs if lineage.state in (DocState.PUBLISHED, DocState.REJECTED)]
    decision_times = [
        (lineage.final_at - lineage.claimed_at).total_seconds()
        for lineage in docs
        if lineage.final_at and lineage.claimed_at
    ]
    turnaround = [
        (lineage.final_at - lineage.approval_requested_at).total_seconds()
        for lineage in docs
        if lineage.final_at and lineage.approval_requested_at
    ]
    findings: Counter[str] = Counter(code for lineage in docs for code in lineage.findings)
    entities: Counter[str] = Counter()
    prompts: dict[str, str] = {}
    for lineage in docs:
        entities.update(lineage.entities)
        if lineage.extraction is not None:
            prompts.update(lineage.extraction.prompt_versions)
    tier_costs = _tier_costs(docs)
    total = sum((Decimal(cost.usd) for cost in tier_costs), Decimal(0))
    decision_median, decision_p95 = _quantiles(decision_times)
    turnaround_median, turnaround_p95 = _quantiles(turnaround)
    volume = Counter(lineage.claimed_at.date().isoformat() for lineage in docs if lineage.claimed_at)
    outcome_mix = {
        "auto-approved": auto,
        "approved by humans": len(published) - auto,
        "rejected": states[DocState.REJECTED],
        "quarantined": states[DocState.QUARANTINED],
        "pending": states[None],
    }
    return Kpis(
        ingested=len(docs),
        auto_approved=auto,
        human_approved=len(published) - auto,
        rejected=states[DocState.REJECTED],
        human_rejected=sum(1 for lineage in decided if lineage.state is DocState.REJECTED and lineage.rejecters),
        quarantined=states[DocState.QUARANTINED],
        pending=states[None],
        decided=len(decided),
        auto_approved_share=auto / len(decided) if decided else None,
        corrected=sum(1 for lineage in docs if lineage.corrections),
        people=_people_at_end(all_events, events),
        decision_median_s=decision_median,
        decision_p95_s=decision_p95,
        approval_turnaround_median_s=turnaround_median,
        approval_turnaround_p95_s=turnaround_p95,
        findings=dict(findings.most_common()),
        pii_entities=dict(entities.most_common()),
        tier_costs=tier_costs,
        total_usd=str(total),
        usd_per_document=str((total / len(docs)).quantize(Decimal("0.000001"))) if docs else "0",
        budget_breaches=sum(1 for event in events if event.kind == EntryKind.BUDGET_EXCEEDED),
        eval_gates=[_gate(event) for event in events if event.kind == EntryKind.EVAL_GATE],
        configs=_configs_in_force(all_events, events),
        prompt_versions=dict(sorted(prompts.items())),
        volume_by_day=dict(sorted(volume.items())),
        outcome_mix=outcome_mix,
    )


def _gate(event: LedgerEvent) -> EvalGate:
    payload = event.payload
    assert isinstance(payload, EvalGatePayload)
    return EvalGate(
        ts=event.ts.isoformat(),
        suite=payload.suite,
        metric=payload.metric,
        value=payload.value,
        threshold=payload.threshold,
        passed=payload.passed,
    )


def _people_at_end(all_events: list[LedgerEvent], period_events: list[LedgerEvent]) -> list[Person]:
    """The roster at the period's last event, folded from ``person.changed`` (signatures are verify.py's job)."""
    end = max((event.ts for event in period_events), default=None)
    roster: dict[str, Person] = {}
    for event in all_events:
        if event.kind != EntryKind.PERSON_CHANGED or (end is not None and event.ts > end):
            continue
        signed = event.payload.get("statement", {}) if isinstance(event.payload, dict) else {}
        name, action = str(signed.get("person", "?")), signed.get("action")
        if action == "remove":
            roster.pop(name, None)
            continue
        previous = roster.get(name)
        roles = signed.get("roles") or (previous.roles if previous else [])
        roster[name] = Person(
            name=name, roles=[str(role) for role in roles], demo=bool(signed.get("demo")),
            since=previous.since if previous else event.ts.isoformat(),
        )  # fmt: skip
    return sorted(roster.values(), key=lambda person: person.name)


def _configs_in_force(all_events: list[LedgerEvent], period_events: list[LedgerEvent]) -> list[ConfigVersion]:
    """The version of each config at the period start plus every change during the period."""
    end = max((event.ts for event in period_events), default=None)
    latest: dict[str, ConfigVersion] = {}
    changes: list[ConfigVersion] = []
    in_period = {(event.shard, event.seq) for event in period_events}  # seqs repeat across shards
    for event in all_events:
        if event.kind != EntryKind.CONFIG_APPLIED or (end is not None and event.ts > end):
            continue
        payload = event.payload
        assert isinstance(payload, ConfigAppliedPayload)
        version = ConfigVersion(
            name=payload.name, version=payload.version, sha256=payload.sha256, since=event.ts.isoformat()
        )
        if (event.shard, event.seq) in in_period:
            changes.append(version)
        else:
            latest[payload.name] = version
    return sorted(latest.values(), key=lambda v: v.name) + changes


def format_duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s``, ``4.2s``; ``n/a`` when nothing was measured."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours < 48 else f"{hours // 24}d {hours % 24}h"


def share(value: float | None) -> str:
    """A share as people read it; "-" when there was nothing to divide (never a made-up 0 %)."""
    return "-" if value is None else f"{value:.1%}"


def kpi_rows(kpis: Kpis) -> list[dict[str, str]]:
    """The headline figures as ``{figure, value}`` rows: what a Prefect table artifact or a CLI prints."""
    figures = {
        "documents": kpis.ingested,
        "auto-approved": kpis.auto_approved,
        "approved by humans": kpis.human_approved,
        "rejected": kpis.rejected,
        "quarantined": kpis.quarantined,
        "pending": kpis.pending,
        "auto-approved share": share(kpis.auto_approved_share),
        "findings": ", ".join(f"{code} {count}" for code, count in kpis.findings.items()) or "none",
        "model cost (USD)": kpis.total_usd,
        "cost per document (USD)": kpis.usd_per_document,
        "budget breaches": kpis.budget_breaches,
    }
    return [{"figure": name, "value": str(value)} for name, value in figures.items()]
