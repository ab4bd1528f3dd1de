"""Several real processes append at once; a writer SIGKILLed mid-batch leaves all of a batch or none."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

from docval.settings import Settings, load_settings
from ledger import EntryDraft, Ledger

WRITERS = 3
BATCHES = 8
BATCH = 25
KILL_BATCH = 3000


def _append_batches(writer: int) -> None:
    ledger = Ledger.open(load_settings())
    for batch in range(BATCHES):
        ledger.append_many(
            [EntryDraft("note", f"w{writer}", f"writer-{writer}", {"b": batch, "i": i}) for i in range(BATCH)]
        )


def _append_forever() -> None:
    ledger = Ledger.open(load_settings())
    batch = 0
    while True:
        ledger.append_many([EntryDraft("note", None, "victim", {"b": batch, "i": i}) for i in range(KILL_BATCH)])
        batch += 1


def test_concurrent_writer_processes_leave_no_gaps_or_duplicates(ledger: Ledger, settings: Settings) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_batches, args=(w,)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    sizes_seen = []
    while any(worker.is_alive() for worker in workers):
        sizes_seen.append(ledger.size())  # a reader gets in between the writers' batches
        time.sleep(0.05)
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    entries = list(ledger.entries())
    assert [entry.seq for entry in entries] == list(range(WRITERS * BATCHES * BATCH))
    for writer in range(WRITERS):
        mine = [(entry.data["b"], entry.data["i"]) for entry in ledger.entries_for_doc(f"w{writer}")]
        assert mine == [(b, i) for b in range(BATCHES) for i in range(BATCH)]
    assert sizes_seen == sorted(sizes_seen) and all(size % BATCH == 0 for size in sizes_seen)
    report = ledger.verify()
    assert report.ok, report


def test_sigkill_mid_batch_leaves_whole_batches_and_a_verifiable_ledger(ledger: Ledger, settings: Settings) -> None:
    ledger.append("note", doc=None, actor="tests", data={"before": True})
    context = multiprocessing.get_context("spawn")
    for delay in (0.011, 0.037, 0.083):  # land at different points of a batch: encoding, inserting, signing
        start = ledger.size()
        victim = context.Process(target=_append_forever)
        victim.start()
        deadline = time.monotonic() + 60
        while ledger.size() < start + KILL_BATCH and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        assert victim.exitcode == -signal.SIGKILL
        size = ledger.size()
        assert size > start
        assert (size - start) % KILL_BATCH == 0, f"a partial batch survived: {size - start} new entries"
        report = ledger.verify()
        assert report.ok, report
        assert ledger.append("note", doc=None, actor="tests", data={"after": delay}) == size  # the lock was released
    ledger.checkpoint()
    assert ledger.verify().ok


SESSION_BATCHES = 40
SESSION_BATCH = 500


def _bulk_writer_session(hold_seconds: float) -> None:
    settings = load_settings()
    config = settings.ledger.model_copy(update={"writer_hold_seconds": hold_seconds})
    with Ledger.open(settings.model_copy(update={"ledger": config})).writer() as writer:
        for batch in range(SESSION_BATCHES):
            writer.append_many(
                [EntryDraft("note", "bulk", "worker", {"b": batch, "i": i}) for i in range(SESSION_BATCH)]
            )


def test_bulk_writer_session_lets_readers_and_occasional_writers_in(ledger: Ledger, settings: Settings) -> None:
    context = multiprocessing.get_context("spawn")
    worker = context.Process(target=_bulk_writer_session, args=(0.2,))
    worker.start()
    waits, sizes_seen, occasional = [], [], []
    while worker.is_alive():
        start = time.monotonic()
        sizes_seen.append(ledger.size())  # blocks while the session holds the lock
        waits.append(time.monotonic() - start)
        occasional += ledger.append_many([EntryDraft("note", "occasional", "cli", {"n": len(occasional)})])
        time.sleep(0.01)
    worker.join(60)
    assert worker.exitcode == 0
    assert sizes_seen == sorted(sizes_seen)
    assert len({size for size in sizes_seen if 0 < size < ledger.size()}) >= 3, "readers never got in mid-session"
    assert max(waits) < 10, f"a reader waited {max(waits):.1f} s"
    bulk = [(entry.data["b"], entry.data["i"]) for entry in ledger.entries_for_doc("bulk")]
    assert bulk == [(b, i) for b in range(SESSION_BATCHES) for i in range(SESSION_BATCH)]
    assert [entry.data["n"] for entry in ledger.entries_for_doc("occasional")] == list(range(len(occasional)))
    assert [entry.seq for entry in ledger.entries()] == list(range(SESSION_BATCHES * SESSION_BATCH + len(occasional)))
    assert ledger.latest_checkpoint() is not None
    report = ledger.verify()
    assert report.ok, report


def _bulk_writer_forever() -> None:
    with Ledger.open(load_settings()).writer() as writer:
        batch = 0
        while True:
            writer.append_many([EntryDraft("note", None, "victim", {"b": batch, "i": i}) for i in range(KILL_BATCH)])
            batch += 1


def test_sigkill_during_a_bulk_writer_session_leaves_whole_batches(ledger: Ledger) -> None:
    context = multiprocessing.get_context("spawn")
    victim = context.Process(target=_bulk_writer_forever)
    victim.start()
    deadline = time.monotonic() + 60
    while ledger.size() < 2 * KILL_BATCH and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    size = ledger.size()
    assert size >= 2 * KILL_BATCH and size % KILL_BATCH == 0, f"a partial batch survived: {size}"
    assert ledger.append("note", doc=None, actor="tests", data={"after": True}) == size
    ledger.checkpoint()
    report = ledger.verify()
    assert report.ok, report


def _read_size_after_lock(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    start = time.monotonic()
    size = Ledger.open(load_settings()).size()
    queue.put((size, time.monotonic() - start))


def test_an_idle_bulk_writer_lets_go_of_the_lock_after_its_hold(ledger: Ledger, settings: Settings) -> None:
    config = settings.ledger.model_copy(update={"writer_hold_seconds": 0.3})
    owner = Ledger.open(settings.model_copy(update={"ledger": config}))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    with owner.writer() as writer:
        writer.append_many([EntryDraft("note", None, "worker", {"i": i}) for i in range(10)])
        reader = context.Process(target=_read_size_after_lock, args=(queue,))
        reader.start()
        size, waited = queue.get(timeout=60)  # the owner is busy elsewhere (here: waiting for the reader)
        reader.join(10)
        assert size == 10 and waited < 10
        assert writer.append_many([EntryDraft("note", None, "worker", {"i": 10})]) == [10]  # retakes the lock
    assert ledger.verify().ok
