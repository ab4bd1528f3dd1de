"""Fault: the Prefect server stops while a worker runs batches, and comes back on the same port and home.

The test owns its server (the session's server cannot be restarted under the other tests): a real
``prefect server start`` under the data directory, stopped with SIGTERM after the worker has started
writing the ledger, and started again a few seconds later. The worker (`docval watch` in its own
process) must survive the outage, say what happened, and finish every document exactly once.
Costs about 40 s: two server starts and one worker start.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once, drop_samples, start_watch

from docval.settings import Settings, load_settings
from flows.env import free_port

DOCS = 16
OUTAGE_SECONDS = 4.0


@pytest.fixture
def own_server_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from flows.appliance import prepare

    monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    monkeypatch.setenv("DOCVAL_FLOWS__STABLE_SECONDS", "0.3")
    monkeypatch.setenv("DOCVAL_FLOWS__BATCH_MAX", "4")
    monkeypatch.setenv("DOCVAL_FLOWS__BATCH_WAIT_SECONDS", "0.1")
    loaded = load_settings()
    prepare(loaded)
    return loaded


def test_server_restart_mid_batch_worker_recovers_and_decides_each_document_once(
    own_server_settings: Settings, tmp_path: Path
) -> None:
    from flows.server import PrefectServer

    settings = own_server_settings
    server = PrefectServer.ensure(settings)
    try:
        docs = drop_samples(settings, tmp_path / "samples", DOCS)
        worker = start_watch()
        deadline = time.monotonic() + 120
        # Work has started once files are claimed into work/ (every start also ledgers its configuration first,
        # so a ledger write no longer means a batch is under way).
        while not list(settings.work_dir.glob("*.pdf")):
            assert worker.poll() is None and time.monotonic() < deadline, "worker made no progress"
            time.sleep(0.02)
        server.stop()
        assert server.process is not None and server.process.returncode is not None
        time.sleep(OUTAGE_SECONDS)
        assert worker.poll() is None, "the worker died with the server: " + worker.stderr.read().decode()[-2000:]
        server = PrefectServer.ensure(settings)  # same URL, same PREFECT_HOME (data_dir/prefect)
        _, stderr = worker.communicate(timeout=240)
    finally:
        server.stop()
    message = stderr.decode()
    assert worker.returncode == 0, message[-2000:]
    assert_exactly_once(settings, docs)
    assert not list(settings.work_dir.glob("*.pdf"))
    # The operator is told: a batch failed on the outage, and later the backlog was cleared.
    assert "failed (" in message and "stay in work/" in message, message[-2000:]
    assert "backlog cleared" in message, message[-2000:]
