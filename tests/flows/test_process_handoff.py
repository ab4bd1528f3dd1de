"""``docval process`` beside a running appliance: its worker takes the files (flows/handoff.py).

The appliance's side is what ``docval up`` runs: the worker's loop in a thread, with the real batch flow
against the session's Prefect server, and the hand-off socket answering with the worker's ``hand_in``. The
command is the real one, in a child process. A command that did the work itself would leave the worker's
``states`` empty, so every test here fails if the hand-off is not used.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flowcheck import docval, running_worker, sample_folder, wait_for

from docval.settings import Settings
from flows.handoff import listening
from flows.worker import Worker


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("samples"))


Process = Callable[[list[str], bool], dict[str, str]]


@contextmanager
def _appliance(settings: Settings, process: Process | None = None) -> Iterator[Worker]:
    """A worker looping in a thread, taking hand-ins from the socket, as in ``docval up``."""
    from flows.batch import worker_context

    with (
        running_worker(worker_context(), process) as worker,
        listening(settings, lambda doc: None, lambda doc, reason: reason, worker.hand_in),
    ):
        yield worker


@pytest.fixture
def appliance(flow_settings: Settings) -> Iterator[Worker]:
    with _appliance(flow_settings) as worker:
        yield worker


def _records(settings: Settings) -> dict[str, dict]:
    return {record["source"]: record for record in map(json.loads, map(Path.read_text, settings.outbox.iterdir()))}


def test_process_wait_beside_the_appliance_is_run_by_its_worker(
    flow_settings: Settings, appliance: Worker, samples: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    names = ["invoice-001.pdf", "invoice-003-bad-iban.pdf", "kyc-002.pdf"]
    for name in names:
        shutil.copy(samples / name, batch / name)
    undecodable = os.fsdecode(b"scan-\xff.pdf")  # a name that is not UTF-8 crosses the socket as bytes
    shutil.copy(samples / "invoice-001.pdf", batch / undecodable)

    run = docval("process", str(batch), "--wait")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "handing 4 files to the running appliance" in run.stderr
    records = _records(flow_settings)
    assert set(records) == set(names)
    ran = {record["doc"] for record in records.values()}  # the worker notes them once the batch run is closed
    wait_for(lambda: set(appliance.states) == ran, "not run by the appliance", 30)
    assert records["invoice-003-bad-iban.pdf"]["state"] == "rejected"
    assert records["kyc-002.pdf"]["state"] == "awaiting_approval"
    assert "3 new documents" in run.stdout and "(UNDECODABLE_NAME)" in run.stdout
    assert sorted(os.listdir(batch)) == sorted([*names, undecodable]), "the inputs were moved without --move"
    assert not [path for path in flow_settings.work_dir.iterdir() if path.name.startswith(".copies-")]


def test_process_without_wait_returns_once_the_appliance_has_claimed(
    flow_settings: Settings, appliance: Worker, samples: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(samples / "invoice-015.pdf", batch / "invoice-015.pdf")

    run = docval("process", str(batch), "--move")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "claimed 1 documents; the running appliance processes them now" in run.stdout
    assert list(batch.iterdir()) == [], "--move hands the file itself over"
    wait_for(lambda: len(appliance.states) == 1, "the appliance did not process the handed document", 120)
    assert [record["source"] for record in _records(flow_settings).values()] == ["invoice-015.pdf"]


def test_a_batch_the_appliance_cannot_finish_is_reported_and_kept(
    flow_settings: Settings, samples: Path, tmp_path: Path
) -> None:
    def fails(docs: list[str], resumed: bool) -> dict[str, str]:
        raise OSError("No space left on device")

    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(samples / "invoice-001.pdf", batch / "invoice-001.pdf")
    with _appliance(flow_settings, fails):
        run = docval("process", str(batch), "--wait")

    assert run.returncode == 2, run.stdout + run.stderr
    assert "No space left on device" in run.stderr and "stay in work/ and the appliance retries them" in run.stderr
    assert len(list(flow_settings.work_dir.glob("*.pdf"))) == 1, "the claimed document must stay for the retry"


def test_files_handed_in_as_the_appliance_stops_are_not_taken(flow_settings: Settings, tmp_path: Path) -> None:
    from docval.store import DocumentStore
    from flows.approvals.applied import signed_policy
    from flows.audit import Audit
    from flows.pipeline import Context

    store = DocumentStore(flow_settings.store_db)
    ctx = Context(flow_settings, Audit(flow_settings), store, signed_policy(flow_settings)[1], None)
    worker = Worker(ctx, process=len, request_approvals=len)
    handed = tmp_path / "late.pdf"
    handed.write_bytes(b"%PDF-1.7\n")
    intake = worker.hand_in([handed])
    stop = threading.Event()
    stop.set()  # SIGTERM before the loop took the intake

    worker.run(stop)

    assert intake.claimed.is_set() and intake.done.is_set()
    assert intake.error is not None and "nothing was taken" in intake.error
    assert handed.exists() and intake.docs == []


def test_the_command_is_answered_once_the_documents_are_final_and_signed(
    flow_settings: Settings, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``docval process --wait`` needs the documents' final entries, written and signed, not the batch run's view
    (KPI artifacts read from the ledger, ~0.1 s) nor Prefect closing the run: it is answered before either."""
    import flows.batch
    from flows.batch import process_batch, worker_context
    from ledger import Ledger

    seen_by_view: list[tuple[bool, int, int]] = []  # (answered, entries, entries signed) as the view is published

    def view(settings: Settings, docs: list[str], states: dict[str, str]) -> None:
        with Ledger.open(settings).reader() as reader:
            size, signed = reader.con.execute("SELECT size, checkpoint_size FROM head").fetchall()[0]
        seen_by_view.append((intake.done.is_set(), size, signed))

    monkeypatch.setattr(flows.batch, "publish_batch_view", view)
    worker = Worker(worker_context(), process=lambda d, r: process_batch(d, r), request_approvals=lambda d: None)
    handed = [tmp_path / name for name in ("invoice-001.pdf", "invoice-003-bad-iban.pdf")]
    for path in handed:
        shutil.copy(samples / path.name, path)
    intake = worker.hand_in(handed)
    worker._take_handed()  # the worker loop's turn, on this thread

    [(answered, size, signed)] = seen_by_view
    assert answered and size == signed > 0
    assert intake.error is None and len(intake.docs) == 2
    assert intake.states == {record["doc"]: record["state"] for record in _records(flow_settings).values()}
