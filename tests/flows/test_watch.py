"""The watched inbox under load: 500 files dropped at once, files still being written, duplicates, non-PDFs.

The worker (watcher + Prefect batch flow) runs in a thread while the test
drops files. Distinct documents are text-PDF samples made unique by a trailing
comment (a PDF reader ignores bytes after %%EOF), so every one is processed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once

from docval.domain import DocState
from docval.events import EntryKind
from docval.settings import Settings
from ledger import Ledger

SLOW_WRITES = 4
DUPLICATES = 10
NOT_PDF = 5


def _variants(folder: Path, total: int) -> list[bytes]:
    from extractors.samples import write_sample_inbox

    clean = [s for s in write_sample_inbox(folder, count=20) if s.defect is None]
    bases = [(folder / s.file).read_bytes() for s in clean]
    return [bases[i % len(bases)] + f"\n% variant {i}\n".encode() for i in range(total)]


@pytest.mark.parametrize("total", [pytest.param(150, id="150"), pytest.param(500, id="500", marks=pytest.mark.slow)])
def test_many_files_at_once_partial_writes_duplicates_and_non_pdfs(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, total: int
) -> None:
    from flows.batch import process_batch, worker_context
    from flows.worker import Worker

    monkeypatch.setenv("DOCVAL_FLOWS__STABLE_SECONDS", "0.6")
    distinct = _variants(tmp_path / "samples", total - DUPLICATES - NOT_PDF - SLOW_WRITES)
    slow = _variants(tmp_path / "slow", SLOW_WRITES + 1)[1:]
    slow = [data + b"% slow\n" for data in slow]
    stop = threading.Event()
    worker = Worker(worker_context(), process=lambda d, r: process_batch(d, r), request_approvals=lambda d: None)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()

    writers = [threading.Thread(target=_write_slowly, args=(flow_settings.inbox / f"slow-{i}.pdf", data))
               for i, data in enumerate(slow)]  # fmt: skip
    for writer in writers:
        writer.start()
    for i, data in enumerate(distinct):  # all at once
        (flow_settings.inbox / f"doc-{i:03d}.pdf").write_bytes(data)
    for i in range(DUPLICATES):
        (flow_settings.inbox / f"again-{i}.pdf").write_bytes(distinct[i])
    for i in range(NOT_PDF):
        (flow_settings.inbox / f"notes-{i}.pdf").write_bytes(f"meeting notes {i}\n".encode())
    for writer in writers:
        writer.join()

    expected = {hashlib.sha256(data).hexdigest() for data in [*distinct, *slow]}
    expected |= {hashlib.sha256(f"meeting notes {i}\n".encode()).hexdigest() for i in range(NOT_PDF)}
    deadline = time.monotonic() + 240
    while not (expected <= set(worker.states) and not list(flow_settings.inbox.iterdir())):
        assert thread.is_alive() and time.monotonic() < deadline, f"{len(worker.states)}/{len(expected)} done"
        time.sleep(0.5)
    stop.set()
    thread.join(30)

    states = assert_exactly_once(flow_settings, expected)
    assert {doc for doc in expected if states[doc] is DocState.QUARANTINED} >= {
        hashlib.sha256(f"meeting notes {i}\n".encode()).hexdigest() for i in range(NOT_PDF)
    }
    duplicates = [e.doc for e in Ledger.open(flow_settings).entries() if e.kind == EntryKind.DUPLICATE]
    assert sorted(duplicates) == sorted(hashlib.sha256(distinct[i]).hexdigest() for i in range(DUPLICATES))


def _write_slowly(path: Path, data: bytes) -> None:
    """A copy in progress: chunks 0.25 s apart, so the file changes for ~2 s before it is complete."""
    chunks = [data[i : i + len(data) // 8 + 1] for i in range(0, len(data), len(data) // 8 + 1)]
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(0.25)


def test_an_idle_watch_loop_leaves_the_store_alone(flow_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing ready to claim: the store is not opened (it was, five times a second: most of an idle appliance's CPU).

    Shown by holding the store's write lock, as a batch stage does: a claim of nothing must not wait for it.
    """
    from docval.db import connect
    from docval.store import DocumentStore
    from flows.approvals.applied import signed_policy
    from flows.audit import Audit
    from flows.pipeline import Context
    from flows.worker import Worker

    store = DocumentStore(flow_settings.store_db, lock_timeout=0.2)
    ctx = Context(flow_settings, Audit(flow_settings), store, signed_policy(flow_settings)[1], None)
    worker = Worker(ctx, process=len, request_approvals=len)
    with connect(flow_settings.store_db, write=True):
        assert worker.claim([]) == []
    assert "failed" not in caplog.text
