"""Fault: the disk fills up while the ledger is written.

Two ways, so the test runs everywhere: an OSError(ENOSPC) injected inside the ledger's write transaction
(after the entry rows are inserted, before the commit), and, where this machine lets root mount one, a
real 24 MB tmpfs holding the ledger file, filled up to the last byte. Either way the batch fails with a
message naming the cause, the ledger verifies at that moment (no half-written entry), the documents stay
in ``work/``, and once space is back the next pass decides each exactly once.
The worker runs in a thread against the session's Prefect server; about 15 s per case.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowcheck import assert_exactly_once, drop_samples, running_worker, wait_for

from docval.settings import Settings
from flows.batch import worker_context  # imports Prefect, whose logging setup would drop caplog's handler mid-test
from ledger import Ledger, verify_ledger

DOCS = 5
TMPFS_SIZE = "24m"


def _run_through_disk_full(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture, free_space: Any, expected: str
) -> None:
    """Drop documents, wait for the failure message, check the ledger and work/, free space, wait for the end."""
    worker_context.cache_clear()
    ctx = worker_context()
    with caplog.at_level(logging.ERROR, logger="flows.worker"), running_worker(ctx) as worker:
        docs = drop_samples(settings, tmp_path / "samples", DOCS)
        wait_for(lambda: "stay in work/" in caplog.text, "no error about the full disk")
        assert expected in caplog.text, caplog.text
        report = verify_ledger(Ledger.open(settings))
        assert report.ok, report  # the failed transaction left nothing half-written
        assert {pdf.stem for pdf in settings.work_dir.glob("*.pdf")} <= docs
        assert len(list(settings.outbox.glob("*.json"))) < DOCS
        free_space()
        wait_for(lambda: len(list(settings.outbox.glob("*.json"))) == DOCS, "not finished after space came back")
        wait_for(lambda: not worker.backlog, "backlog not cleared")
    assert_exactly_once(settings, docs)


def test_injected_enospc_in_the_ledger_transaction(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The second ledger write (the first batch's ingest entries, after the claims) runs out of space."""
    original = Ledger._append_locked
    calls = {"n": 0, "full": True}

    def append_then_fail(self: Ledger, con: Any, drafts: list[Any]) -> list[int]:
        seqs = original(self, con, drafts)  # rows are in the transaction: the failure must roll them back
        calls["n"] += 1
        if calls["n"] >= 2 and calls["full"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.db_path))
        return seqs

    monkeypatch.setattr(Ledger, "_append_locked", append_then_fail)
    _run_through_disk_full(
        flow_settings, tmp_path, caplog, lambda: calls.update(full=False), "OSError: [Errno 28] No space left"
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs of TMPFS_SIZE (root only); skipped with the reason where mounting is not allowed."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); the injected ENOSPC case covers it"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    """Write zeros until the file system says ENOSPC; the file to delete to give the space back."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_real_full_tmpfs_under_the_ledger(
    settings: Settings,
    prefect_server: tuple[str, Path],
    small_disk: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from docval.settings import load_settings
    from flows.appliance import prepare

    monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", prefect_server[0])
    monkeypatch.setenv("DOCVAL_FLOWS__STABLE_SECONDS", "0.3")
    monkeypatch.setenv("DOCVAL_LEDGER__DB_FILE", str(small_disk / "ledger.duckdb"))
    on_small_disk = load_settings()
    prepare(on_small_disk)
    Ledger.open(on_small_disk)
    filler = _fill(small_disk)
    _run_through_disk_full(on_small_disk, tmp_path, caplog, filler.unlink, "No space left on device")


def test_process_wait_names_a_whole_batch_failure_and_loses_nothing(flow_settings: Settings, tmp_path: Path) -> None:
    """The real `docval process --wait`, ENOSPC injected into its second ledger write: a clear last line, exit 2."""
    import sys

    from flowcheck import drop_samples as write_samples

    inject = (
        "import errno, sys\n"
        "from ledger import Ledger\n"
        "original, writes = Ledger._append_locked, []\n"
        "def append(self, con, drafts):\n"
        "    seqs = original(self, con, drafts)\n"
        "    writes.append(1)\n"
        "    if len(writes) == 2:\n"
        "        raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "    return seqs\n"
        "Ledger._append_locked = append\n"
        "from docval.cli import main\n"
        "main()\n"
    )
    folder = tmp_path / "to-process"
    docs = write_samples(flow_settings, tmp_path / "samples", DOCS)
    folder.mkdir()
    for pdf in flow_settings.inbox.iterdir():
        os.replace(pdf, folder / pdf.name)
    done = subprocess.run(
        [sys.executable, "-c", inject, "process", "--wait", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    line = done.stderr.strip().splitlines()[-1]  # after Prefect's own log of the failed run: our one line
    assert line.startswith("error: batch of") and "No space left on device" in line and "stay in work/" in line, line
    assert {pdf.stem for pdf in flow_settings.work_dir.glob("*.pdf")} == docs
    assert verify_ledger(Ledger.open(flow_settings)).ok
    worker_context.cache_clear()
    ctx = worker_context()
    with running_worker(ctx):  # the next start resumes them
        wait_for(lambda: len(list(ctx.settings.outbox.glob("*.json"))) == DOCS, "not resumed")
    assert_exactly_once(ctx.settings, docs)
