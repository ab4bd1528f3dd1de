"""Exactly once across SIGKILL: the worker is killed at 20 points (6 in the quick suite) during batches, then resumed.

Kill points are spread over claiming, every stage and the final writes: each
round drops a few new files, starts `docval watch`, waits until the ledger
file changes (work has begun), then kills the process after a random 0-1.5 s
(seeded). A last run finishes whatever is left. Afterwards every document has exactly one final state, no
step (and no decision) was written twice, and the ledger verifies.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import time
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once, ledger_stamp, start_watch

from docval.settings import Settings

SEED = 20261125


INITIAL = 12
PER_ROUND = 4  # new files dropped at each restart, so every round has work however fast the machine is


@pytest.mark.parametrize(
    "kill_points", [pytest.param(6, id="6-kills"), pytest.param(20, id="20-kills", marks=pytest.mark.slow)]
)
def test_sigkill_at_many_points_then_every_document_decided_once(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_points: int
) -> None:
    from extractors.samples import write_sample_inbox

    monkeypatch.setenv("DOCVAL_FLOWS__BATCH_MAX", "6")
    monkeypatch.setenv("DOCVAL_FLOWS__BATCH_WAIT_SECONDS", "0.1")
    samples = write_sample_inbox(tmp_path / "samples", count=INITIAL + PER_ROUND * kill_points)
    docs = {hashlib.sha256((tmp_path / "samples" / s.file).read_bytes()).hexdigest() for s in samples}
    waiting = [tmp_path / "samples" / s.file for s in samples]

    def drop(count: int) -> None:
        for path in waiting[:count]:
            os.replace(path, flow_settings.inbox / path.name)
        del waiting[:count]

    drop(INITIAL)
    rng = random.Random(SEED)
    kills = []
    while len(kills) < kill_points:
        drop(PER_ROUND)
        before = ledger_stamp(flow_settings)
        worker = start_watch()
        deadline = time.monotonic() + 60
        while ledger_stamp(flow_settings) == before and worker.poll() is None:
            assert time.monotonic() < deadline, "worker made no progress"
            time.sleep(0.02)
        delay = rng.uniform(0, 1.5)
        time.sleep(delay)
        if worker.poll() is not None:
            break  # everything finished before this kill point
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills.append(round(delay, 2))

    final = start_watch()
    _, stderr = final.communicate(timeout=240)
    assert final.returncode == 0, stderr.decode()[-2000:]
    states = assert_exactly_once(flow_settings, docs)
    assert len(states) == len(docs)
    assert len(kills) >= kill_points, f"work finished after {len(kills)} kills ({kills}); raise PER_ROUND"
