"""A real ledger filled with synthetic lifecycles, and one report + bundle built from it, shared by the tests."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reporthelpers import REPO_ROOT, Built, make_ledger, run_period

from docval.settings import Settings
from ledger import Ledger, init_keys
from reports import generate_report
from reports.synthetic import populate_ledger


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One report with bundle over DOCUMENTS documents; tests that modify files work on copies."""
    root = tmp_path_factory.mktemp("built")
    settings, ledger = make_ledger(root / "var")
    out = root / "out"
    files = generate_report(settings, run_period(), out, bundle=True)
    return Built(settings, ledger, files, out)


@pytest.fixture
def filled(settings: Settings) -> Ledger:
    """A small real ledger in the test's own data directory (the ``settings`` fixture exports it to subprocesses)."""
    init_keys(settings.keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    populate_ledger(ledger, 40, start=datetime.now(UTC))
    return ledger


@pytest.fixture
def bundle_copy(built: Built, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(built.out / "bundle", target)
    return target


@pytest.fixture(scope="session")
def system_deps() -> None:
    """chromium and poppler-utils come from scripts/system-deps.sh (idempotent), never installed by hand."""
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "system-deps.sh")], check=True, timeout=900)
