"""Fault: another process holds a DuckDB file (through docval.db's lock, with a real open connection).

A short hold is waited out: processing pauses and completes with no error. A hold past
``lock_timeout_seconds`` fails the batch with a message naming the locked file; the claimed documents
stay in ``work/`` and the next pass, once the lock is gone, finishes each exactly once.
Each case starts one worker process against the session's Prefect server (about 15-25 s each).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once, drop_samples, running_worker, start_watch, wait_for

from docval.events import EntryKind
from docval.settings import Settings
from ledger import Ledger

DOCS = 6
_HOLD = (
    "import sys; from pathlib import Path; from docval.db import connect\n"
    "with connect(Path(sys.argv[1]), write=True) as con:\n"
    "    con.execute('SELECT 1'); print('locked', flush=True); sys.stdin.read()\n"
)


def _hold(db: Path) -> subprocess.Popen[str]:
    """A process holding ``db`` read-write until its stdin is closed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(10) == 0


def test_store_locked_briefly_processing_waits_and_completes(flow_settings: Settings, tmp_path: Path) -> None:
    docs = drop_samples(flow_settings, tmp_path / "samples", DOCS)
    holder = _hold(flow_settings.store_db)
    worker = start_watch()
    time.sleep(3.0)  # the worker is up and waiting for the store (claims need it)
    assert not list(flow_settings.outbox.glob("*.json")), "processed while the store was locked"
    _release(holder)
    _, stderr = worker.communicate(timeout=180)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    assert "failed (" not in stderr.decode(), "a wait within lock_timeout_seconds is not an error"
    assert_exactly_once(flow_settings, docs)


def test_ledger_locked_past_timeout_clear_error_documents_stay_in_work(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker runs in a thread here (as in test_watch) so the lock can be taken while it is already up."""
    from extractors.samples import write_sample_inbox
    from flows.batch import worker_context

    monkeypatch.setenv("DOCVAL_LEDGER__LOCK_TIMEOUT_SECONDS", "0.5")
    worker_context.cache_clear()
    ctx = worker_context()
    holder = _hold(ctx.settings.ledger_db)
    try:
        with caplog.at_level(logging.ERROR, logger="flows.worker"), running_worker(ctx) as worker:
            docs = drop_samples(ctx.settings, tmp_path / "samples", DOCS)
            (sample,) = write_sample_inbox(tmp_path / "again", count=1)  # deterministic: the same bytes again
            os.replace(tmp_path / "again" / sample.file, ctx.settings.inbox / "same-bytes-again.pdf")
            os.mkfifo(ctx.settings.inbox / "pipe.pdf")  # unreadable: quarantined, its entry waits for the lock
            wait_for(lambda: "claims failed" in caplog.text, "no error about the locked ledger")
            assert f"StoreBusyError: {ctx.settings.ledger_db} stayed locked" in caplog.text, caplog.text
            assert {pdf.stem for pdf in ctx.settings.work_dir.glob("*.pdf")} == docs  # kept for the next pass
            assert not list(ctx.settings.outbox.glob("*.json"))
            _release(holder)
            wait_for(lambda: len(list(ctx.settings.outbox.glob("*.json"))) == DOCS, "not finished after the lock")
            wait_for(lambda: not worker.backlog and not list(ctx.settings.inbox.iterdir()), "backlog not cleared")
    finally:
        if holder.poll() is None:
            _release(holder)
    assert_exactly_once(ctx.settings, docs)
    kinds = Counter((entry.kind, entry.doc in docs) for entry in Ledger.open(ctx.settings).entries())
    assert kinds[(EntryKind.DUPLICATE, True)] == 1 and kinds[(EntryKind.QUARANTINED, False)] == 1, kinds
