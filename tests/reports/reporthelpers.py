"""Helpers the report tests import (a uniquely named module: every package's tests have a ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from docval.events import BudgetExceededPayload, EntryKind
from docval.settings import Settings, load_settings
from ledger import Ledger, init_keys
from reports import Period, ReportFiles
from reports.synthetic import populate_ledger, synthetic_entries

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = 300
Draft = tuple[str, str, str | None, str, dict[str, Any]]  # ts, kind, doc, actor, data


def make_ledger(data_dir: Path, documents: int = DOCUMENTS) -> tuple[Settings, Ledger]:
    settings = load_settings(data_dir=data_dir)
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    populate_ledger(ledger, documents, start=datetime.now(UTC))
    return settings, ledger


_RUN_STARTED = datetime.now(UTC)


def run_period() -> Period:
    """The days this test run has lasted: the ledger stamps entries when they are appended.

    Not just today: a run that crosses midnight UTC appends yesterday and reports today.
    """
    return Period.from_dates(_RUN_STARTED.date(), datetime.now(UTC).date())


def period_args(period: Period) -> tuple[str, ...]:
    """``--from`` and ``--to`` for ``period``, as a person types them (inclusive calendar days)."""
    return ("--from", period.start.date().isoformat(), "--to", (period.end - timedelta(days=1)).date().isoformat())


@dataclass(frozen=True)
class Built:
    settings: Settings
    ledger: Ledger
    files: ReportFiles
    out: Path


def lifecycle_drafts(documents: int, seed: int, *, every_kind: bool = False) -> list[Draft]:
    """Synthetic lifecycles, per-day and per-document budget breaches, and (``every_kind``) each kind they lack."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    drafts = [(e.ts, e.kind, e.doc, e.actor, e.data) for e in synthetic_entries(documents, start=start, seed=seed)]
    ts, doc = drafts[-1][0], drafts[-1][2]
    budget = BudgetExceededPayload(scope="day", tier="remote", limit_usd="5", spent_usd="5.1", action="fallback")
    drafts += [(ts, EntryKind.BUDGET_EXCEEDED, on, "worker", budget.model_dump(mode="json")) for on in (None, doc)]
    if every_kind:  # kinds the report lists without reading their payload: key.rotated, note, ...
        drafts += [(ts, kind, None, "operator", {"n": 1}) for kind in EntryKind if kind not in {d[1] for d in drafts}]
    return drafts
