"""Fault: the ledger signing key missing or readable by others, at start and while the worker runs.

At start, `docval watch` (the real CLI, one process per case, ~5 s each) refuses with one line naming
the key file. Mid-run, a removed key stops the signing: the batch whose checkpoint falls due fails
with a message naming the file, its entries are rolled back (the ledger verifies), the documents stay
in ``work/``, and once the key is back every document is decided exactly once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once, drop_samples, running_worker, wait_for

from docval.settings import Settings
from ledger import Ledger, verify_ledger
from ledger.keys import signing_key_path

DOCS = 4


def _start_watch_cli() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docval", "watch", "--exit-when-idle"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )


@pytest.mark.parametrize("fault", ["missing", "mode-0644"])
def test_start_refuses_without_a_safe_signing_key(flow_settings: Settings, fault: str) -> None:
    key = signing_key_path(flow_settings.ledger_keys_dir)
    if fault == "missing":
        key.unlink()
    else:
        key.chmod(0o644)
    done = _start_watch_cli()
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()  # one clear line, no traceback
    assert line.startswith("error: ") and str(key) in line, line
    assert ("missing" in line and "backup" in line) if fault == "missing" else "0644" in line, line


def test_start_refuses_a_world_readable_hmac_key(flow_settings: Settings) -> None:
    hmac_key = flow_settings.keys_dir / "hmac.key"
    hmac_key.chmod(0o640)
    done = _start_watch_cli()
    assert done.returncode == 2 and f"{hmac_key}: mode 0640" in done.stderr, done.stderr[-2000:]


def test_key_removed_mid_run_documents_stay_in_work_until_it_is_back(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from flows.batch import worker_context

    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_EVERY", "2")  # every ledger write is due a signed checkpoint
    worker_context.cache_clear()
    ctx = worker_context()
    settings = ctx.settings
    key = signing_key_path(settings.ledger_keys_dir)
    kept = tmp_path / "ledger.key.backup"
    with caplog.at_level(logging.ERROR, logger="flows.worker"), running_worker(ctx) as worker:
        os.replace(key, kept)  # the worker is up and has passed its start checks
        docs = drop_samples(settings, tmp_path / "samples", DOCS)
        wait_for(lambda: "stay in work/" in caplog.text, "no error about the missing key")
        assert f"LedgerError: no ledger signing key at {key}" in caplog.text, caplog.text
        assert {pdf.stem for pdf in settings.work_dir.glob("*.pdf")} == docs
        assert not list(settings.outbox.glob("*.json"))
        ledger = Ledger.open(settings)
        report = verify_ledger(ledger)
        assert report.ok and report.signed_size == report.size, report  # what the start recorded is signed
        kinds = {entry.kind for entry in ledger.entries()}
        assert "doc.claimed" not in kinds, kinds  # the unsigned claims were rolled back
        os.replace(kept, key)
        wait_for(lambda: len(list(settings.outbox.glob("*.json"))) == DOCS, "not finished after the key came back")
        wait_for(lambda: not worker.backlog, "backlog not cleared")
    assert_exactly_once(settings, docs)


def test_a_run_meant_to_end_gives_up_with_a_clear_error(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`watch --exit-when-idle` (a cron job) must not retry a lasting fault for ever: it stops, nothing lost."""
    import threading

    from flows.batch import process_batch, worker_context
    from flows.errors import FlowError
    from flows.worker import Worker

    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_EVERY", "2")  # the claims' ledger write needs the key
    worker_context.cache_clear()
    ctx = worker_context()
    key = signing_key_path(ctx.settings.ledger_keys_dir)
    kept = tmp_path / "ledger.key.backup"
    os.replace(key, kept)
    docs = drop_samples(ctx.settings, tmp_path / "samples", DOCS)

    def worker() -> Worker:
        return Worker(ctx, process=lambda batch, resumed: process_batch(batch, resumed), request_approvals=len)

    with pytest.raises(FlowError, match="giving up after 2 failed attempts") as failure:
        worker().run(threading.Event(), exit_when_idle=True, give_up_after=2)
    assert str(key) in str(failure.value) and "stay in work/" in str(failure.value)
    assert {pdf.stem for pdf in ctx.settings.work_dir.glob("*.pdf")} == docs
    os.replace(kept, key)
    worker().run(threading.Event(), exit_when_idle=True)  # the next start resumes them
    assert_exactly_once(ctx.settings, docs)
