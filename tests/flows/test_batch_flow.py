"""The processing flow on a real Prefect server with the generated sample inbox, then the leak scan.

Covers: every defect ends in the state it should, duplicates are recorded and
not processed twice, each document has exactly one final state, the ledger
verifies, and no personal value reaches Prefect's database, its result storage,
logs, the outbox or the ledger.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once
from prefect import flow

from docval.domain import DocState
from docval.events import EntryKind
from docval.settings import Settings
from docval.store import DocumentStore
from ledger import Ledger


def _worker(settings: Settings):
    from flows.batch import process_batch, worker_context
    from flows.worker import Worker

    approvals: list[str] = []
    worker = Worker(worker_context(), process=lambda d, r: process_batch(d, r), request_approvals=approvals.extend)
    return worker, approvals


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory):
    """Nothing shared: each test below builds its own; this just names the sample generator once."""
    from extractors.samples import write_sample_inbox

    folder = tmp_path_factory.mktemp("samples")
    return folder, write_sample_inbox(folder)


def test_sample_inbox_through_the_flow_then_leak_scan(
    flow_settings: Settings, processed, prefect_server, caplog
) -> None:
    folder, samples = processed
    for sample in samples:
        shutil.copy(folder / sample.file, flow_settings.inbox / sample.file)
    shutil.copy(folder / samples[0].file, flow_settings.inbox / "same-bytes-again.pdf")
    worker, approvals = _worker(flow_settings)
    worker.run(threading.Event(), exit_when_idle=True)

    ids = {hashlib.sha256((folder / s.file).read_bytes()).hexdigest(): s for s in samples}
    states = assert_exactly_once(flow_settings, set(ids))
    by_file = {ids[doc].file: state for doc, state in states.items()}
    assert by_file["invoice-010-encrypted.pdf"] is DocState.QUARANTINED
    assert by_file["invoice-011-not-a-pdf.pdf"] is DocState.QUARANTINED
    assert by_file["invoice-003-bad-iban.pdf"] is DocState.REJECTED
    assert by_file["kyc-002.pdf"] is DocState.AWAITING_APPROVAL
    assert sorted(approvals) == sorted(doc for doc, state in states.items() if state is DocState.AWAITING_APPROVAL)
    encrypted = _id(folder, "invoice-010-encrypted.pdf")
    reason = json.loads((flow_settings.quarantine_dir / f"{encrypted}.reason.json").read_text())
    assert reason["reason"] == "ENCRYPTED" and reason["stage"] == "ingest"
    assert reason["source"] == "invoice-010-encrypted.pdf"
    duplicates = [e for e in Ledger.open(flow_settings).entries() if e.kind == EntryKind.DUPLICATE]
    assert [e.doc for e in duplicates] == [_id(folder, samples[0].file)]
    assert not list(flow_settings.inbox.iterdir())
    _assert_runs_named_for_people_with_their_artifacts(flow_settings, len(samples))
    _assert_names_kept(flow_settings, {doc: sample.file for doc, sample in ids.items()})

    _assert_no_leaks(flow_settings, prefect_server[1], caplog.text)


def _assert_runs_named_for_people_with_their_artifacts(settings: Settings, documents: int) -> None:
    """Issue 16: ``batch-<UTC minute>-<n>-docs`` runs, each with its KPI table and a link to the workbench."""
    import re

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["process-batch"])), limit=200)
        ours = [
            run for run in runs if len(run.parameters["doc_ids"]) and run.parameters["doc_ids"][0] in _docs(settings)
        ]
        assert ours, "no batch run of this test"
        for run in ours:
            assert re.fullmatch(rf"batch-\d{{4}}-\d\d-\d\dT\d\d:\d\d-{len(run.parameters['doc_ids'])}-docs", run.name)
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            kinds = {artifact.key: artifact for artifact in found}
            assert kinds["docval-batch-kpis"].type == "table"
            assert f"]({settings.workbench.public_origin})" in str(kinds["docval-batch-review"].data)
    assert sum(len(run.parameters["doc_ids"]) for run in ours) >= documents


def _assert_names_kept(settings: Settings, names: dict[str, str]) -> None:
    """The sample names hold no personal data, so the outbox, `docval pending --json` and the report show them
    as they are (masked as running text, ``kyc-012-bad-iban.pdf`` was ``<PERSON_2>`` in all three)."""
    from flows.approvals.pending import pending_rows
    from reports.identify import identify

    shown = {doc: identify(settings.outbox, doc).source for doc in names if (settings.outbox / f"{doc}.json").exists()}
    assert shown == {doc: names[doc] for doc in shown} and len(shown) >= len(names) - 2  # 2 quarantined: no record
    pending = {row["doc"]: row["source"] for row in pending_rows(settings)}
    assert pending and pending == {doc: names[doc] for doc in pending}


def _docs(settings: Settings) -> set[str]:
    return {record.doc for record in DocumentStore(settings.store_db).all()}


def _id(folder: Path, name: str) -> str:
    return hashlib.sha256((folder / name).read_bytes()).hexdigest()


def _assert_no_leaks(settings: Settings, prefect_home: Path, log_text: str) -> None:
    """pii's scan (vault originals + patterns) over everything Prefect and docval wrote except the originals.

    Prefect's database is scanned through a consistent copy (the live WAL cannot be attributed to tables);
    its built-in block catalogue (written at server start, before any document) carries example e-mail
    addresses, so pattern hits there are Prefect's own. Ledger entries and outbox files are scanned as text
    with 64-hex digests blanked: pii's card pattern fires on digit runs inside hashes. A vault hit (a real
    value of a processed document) is allowed nowhere.
    """
    import re
    import sqlite3

    from pii import PiiEngine

    scan_dir = settings.data_dir / "leak-scan"
    scan_dir.mkdir()
    (scan_dir / "captured.log").write_text(log_text)
    with sqlite3.connect(prefect_home / "prefect.db") as live, sqlite3.connect(scan_dir / "prefect.db") as copy:
        live.backup(copy)
    digest = re.compile(r"\b[0-9a-f]{64}\b")
    entries = "\n".join(entry.canonical.decode() for entry in Ledger.open(settings).entries())
    (scan_dir / "ledger.jsonl").write_text(digest.sub("<sha256>", entries))
    for result in settings.outbox.glob("*.json"):
        (scan_dir / f"outbox-{result.name}").write_text(digest.sub("<sha256>", result.read_text()))
    targets = [scan_dir, prefect_home / "storage", settings.data_dir / "prefect"]
    hits = PiiEngine.from_settings(settings).scan([path for path in targets if path.exists()])
    catalogue = ("block_schema", "block_type")
    leaks = [hit for hit in hits if hit.source != "pattern" or not hit.where.startswith(catalogue)]
    assert leaks == [], [str(hit) for hit in leaks]


def test_process_wait_prints_a_summary_and_exits_zero(flow_settings: Settings, processed, tmp_path: Path) -> None:
    import subprocess
    import sys

    folder, _ = processed
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("invoice-003-bad-iban.pdf", "invoice-010-encrypted.pdf", "kyc-002.pdf"):
        shutil.copy(folder / name, batch / name)
    run = subprocess.run(
        [sys.executable, "-m", "docval", "process", str(batch), "--wait"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {line.split()[1]: line.split()[3] for line in run.stdout.splitlines() if ".pdf" in line}
    assert rows == {
        "invoice-003-bad-iban.pdf": "rejected",
        "invoice-010-encrypted.pdf": "quarantined",
        "kyc-002.pdf": "awaiting_approval",
    }
    assert len(list(batch.iterdir())) == 3  # copies were claimed; the given files stay (--move hands them over)


def test_the_watchers_batches_show_under_the_batch_deployment(flow_settings: Settings) -> None:
    """Issue 16: work done by the watcher appears under ``process-batch/batch``, run in the watcher's process."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.batch import process_batch, process_claimed

    assert process_claimed([], False) == {}  # no served deployment: a direct call, as `docval process` makes
    deployment = process_batch.to_deployment(name="batch").apply()
    try:
        assert process_claimed([], False) == {}
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment])))
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
    assert len(runs) == 1 and runs[0].state.is_completed() and runs[0].name.endswith("-0-docs")


def test_runs_made_in_this_process_send_no_heartbeats(flow_settings: Settings) -> None:
    """Prefect joins its heartbeat thread, which sleeps in 1 s steps, at the end of every run: up to a second of
    each batch and each publish (flows/inprocess.py). Runs made here, with or without a run object, go without."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from flows.inprocess import run_created

    @flow(name="heartbeat-probe", persist_result=False)
    def heartbeat_probe() -> int | None:
        return get_current_settings().flows.heartbeat_frequency

    assert heartbeat_probe() is not None  # Prefect's own default: heartbeats on
    assert run_created(heartbeat_probe, None, {}) is None
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(heartbeat_probe)
    assert run_created(heartbeat_probe, run, {}) is None


@flow(name="suspension-probe", persist_result=False)
def suspension_probe() -> list[str]:
    """The threads alive while a run's flow body runs (Prefect's suspension observer is ``observer_thread``)."""
    return [thread.name for thread in threading.enumerate()]


def test_runs_made_in_this_process_start_no_suspension_observer(flow_settings: Settings) -> None:
    """For a run of a deployment Prefect's engine starts a suspension observer (a thread, an event loop, a client
    and a websocket, stopped by a 0.2 s poll after the run): ~0.25 s of every batch. Runs made here are never
    suspended, so none is started; the server's record still names the deployment and the run completes."""
    from prefect.client.orchestration import get_client

    from flows.inprocess import pending_run, run_created

    deployment = suspension_probe.to_deployment(name="probe").apply()
    try:
        run = pending_run("suspension-probe/probe", {})
        assert run is not None and run.deployment_id == deployment
        threads = run_created(suspension_probe, run, {})
        with get_client(sync_client=True) as client:
            recorded = client.read_flow_run(run.id)
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
    assert not [name for name in threads if "observer_thread" in name], threads
    assert recorded.deployment_id == deployment and recorded.state.is_completed()


@flow(name="client-probe", persist_result=False)
def client_probe() -> object:
    """The API client the engine runs this run with."""
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def test_the_worker_loop_creates_and_runs_its_batches_with_one_client(flow_settings: Settings) -> None:
    """Each run made two clients (one to create it, one to run it: an SSL context, a version check, a connection
    each); inside ``one_client`` (``docval up``'s worker loop) every run is created and run with the same one."""
    from prefect.client.orchestration import get_client

    from flows.inprocess import one_client, run_here

    deployment = client_probe.to_deployment(name="probe").apply()
    try:
        apart = [run_here(client_probe, "client-probe/probe", {}) for _ in range(2)]
        with one_client():
            together = [run_here(client_probe, "client-probe/probe", {}) for _ in range(2)]
            creating = get_client(sync_client=True)
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
    assert apart[0] is not apart[1]
    assert together[0] is together[1] is creating
