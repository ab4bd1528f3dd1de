"""Nothing under the data directory for other users: files 0600, folders 0700, no start on a shared one.

A real run (``docval process --wait`` on sample PDFs, then ``docval report
--bundle``) and a walk over everything it left: the ledger and its
checkpoints, the store, outbox, archive, quarantine, work area, vault, keys,
the Prefect client's home and the report. tests/flows/test_standalone.py
walks a data directory whose Prefect server (and ``prefect.db``) docval
started itself.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flowcheck import docval, sample_folder, shared_paths

from docval.settings import Settings


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("samples"))


@pytest.mark.slow  # test_standalone.py walks a real run's data dir too (with prefect.db); this adds the report
def test_a_real_run_leaves_nothing_others_can_reach(
    flow_settings: Settings, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "fresh" / "var"  # made by the commands themselves, not by the test's fixtures
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(data_dir))
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("invoice-001.pdf", "invoice-010-encrypted.pdf", "kyc-002.pdf"):
        shutil.copy(samples / name, batch / name)
        (batch / name).chmod(0o644)  # what a user's upload usually is

    first = datetime.now(UTC).strftime("%Y-%m-%d")  # before the run: it may cross midnight
    run = docval("process", str(batch), "--wait")
    last = datetime.now(UTC).strftime("%Y-%m-%d")
    report = docval("report", "--from", first, "--to", last, "--bundle")

    assert run.returncode == 0, run.stdout + run.stderr
    assert report.returncode == 0, report.stdout + report.stderr
    written = {path.name for path in data_dir.rglob("*")}
    assert {"ledger.duckdb", "ledger.duckdb.checkpoints", "store.duckdb", "report.pdf"} <= written, sorted(written)
    assert shared_paths(data_dir) == []


@pytest.mark.parametrize(
    ("command", "mode"), [(["process", "--wait"], 0o775), (["watch", "--exit-when-idle"], 0o757)], ids=["775", "757"]
)
def test_starting_on_a_data_dir_others_can_write_is_refused(
    flow_settings: Settings, tmp_path: Path, mode: int, command: list[str]
) -> None:
    def databases() -> dict[Path, int]:  # the fixture's start may already have written some: none may change
        return {path: path.stat().st_mtime_ns for path in flow_settings.ledger_db.parent.glob("*.duckdb*")}

    before = databases()
    flow_settings.data_dir.chmod(mode)
    args = [*command, str(tmp_path)] if command[0] == "process" else command
    run = docval(*args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"chmod 700 {flow_settings.data_dir}" in run.stderr and f"{mode:04o}" in run.stderr, run.stderr
    assert databases() == before, "refused, yet it wrote"
