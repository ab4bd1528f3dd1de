"""Helpers the report tests import (a uniquely named module: every package's tests have a ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from docval.settings import Settings, load_settings
from ledger import Ledger, init_keys
from reports import Period, ReportFiles
from reports.synthetic import populate_ledger

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = 300


def make_ledger(data_dir: Path, documents: int = DOCUMENTS) -> tuple[Settings, Ledger]:
    settings = load_settings(data_dir=data_dir)
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    populate_ledger(ledger, documents, start=datetime.now(UTC))
    return settings, ledger


def today_period() -> Period:
    """The ledger stamps entries with the time of appending, so synthetic documents are claimed today."""
    today = datetime.now(UTC).date()
    return Period.from_dates(today, today)


@dataclass(frozen=True)
class Built:
    settings: Settings
    ledger: Ledger
    files: ReportFiles
    out: Path
