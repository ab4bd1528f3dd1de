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
