"""A real ledger filled with synthetic lifecycles, and one report + bundle built from it, shared by the tests."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from docval.settings import Settings, load_settings
from ledger import Ledger, init_keys
from reports import Period, ReportFiles, generate_report
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


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One report with bundle over DOCUMENTS documents; tests that modify files work on copies."""
    root = tmp_path_factory.mktemp("built")
    settings, ledger = make_ledger(root / "var")
    out = root / "out"
    files = generate_report(settings, today_period(), out, bundle=True)
    return Built(settings, ledger, files, out)


@pytest.fixture
def bundle_copy(built: Built, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(built.out / "bundle", target)
    return target


@pytest.fixture(scope="session")
def system_deps() -> None:
    """chromium and poppler-utils come from scripts/system-deps.sh (idempotent), never installed by hand."""
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "system-deps.sh")], check=True, timeout=900)
