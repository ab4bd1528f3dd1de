"""No unsigned tail (issue 15): the worker signs after every batch's final writes and on every stop.

Before, it signed every 1,000 entries or after 60 s, so "docval stopped cleanly" left most of a small run's
entries unsigned, editable without any key. Real worker loop, real Prefect flow, real ledger.
"""

from __future__ import annotations

from pathlib import Path

from flowcheck import drop_samples, running_worker, wait_for

from docval.settings import Settings
from ledger import Ledger, verify_ledger


def test_each_batch_and_the_stop_leave_nothing_unsigned(flow_settings: Settings, tmp_path: Path) -> None:
    from flows.batch import worker_context

    ctx = worker_context()
    with running_worker(ctx) as worker:
        docs = drop_samples(flow_settings, tmp_path / "samples", 3)
        wait_for(lambda: docs <= set(worker.states), "the batch did not finish")
        after_batch = verify_ledger(Ledger.open(flow_settings))
        assert after_batch.ok and after_batch.size > 0 and after_batch.unsigned == 0, after_batch
        (flow_settings.inbox / "notes.pdf").write_bytes(b"not a pdf\n")  # claimed, quarantined: more entries
        wait_for(lambda: len(worker.states) == 4, "the non-PDF was not handled")
    stopped = verify_ledger(Ledger.open(flow_settings))
    assert stopped.size > after_batch.size and stopped.holds(), stopped
