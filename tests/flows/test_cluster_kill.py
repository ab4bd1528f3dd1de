"""Flow runs SIGKILLed mid-batch on pool workers: a recovery run finishes their documents, none lost (~50 s).

A real ``docval cluster up`` with two workers (SQLite server: the database is
not the point here). Once the runs have claimed all 60 dropped documents,
their processes are killed, mid-stages (or, as it happens, between a rename
into ``work/`` and its claim entry: then the takeover records the claim).
Nothing more reaches the inbox: the dispatcher sees documents left in
``work/`` (older than ``flows.stranded_seconds``) and starts a run with no
names; whichever worker takes it resumes its own shard's documents and
finishes the other shard's in that shard (flows/cluster/recovery.py). Every document
ends with exactly one final entry over both shards, in the shard that claimed
it, and after an anchor pass the root and both shards verify.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

from flowcheck import ClusterUp, assert_once_over_shards, child_pids, wait_for

from docval.settings import Settings
from flows.env import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

DOCS = 60


def _taken_over(cluster: ClusterUp) -> int:
    """Documents runs resumed (their own shard's) or adopted (another shard's), from the runs' summary lines."""
    return sum(int(n) for n in re.findall(r"'(?:resumed|adopted)': (\d+)", cluster.worker_logs()))


def test_killed_runs_are_finished_by_a_recovery_run_without_new_files(settings: Settings) -> None:
    from pipeline_bench import _documents

    documents = _documents(settings.data_dir / "samples", DOCS)
    env = {
        **os.environ,
        "DOCVAL_FLOWS__PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        "DOCVAL_FLOWS__STRANDED_SECONDS": "2",
    }
    cluster = ClusterUp(settings, env, "--workers", "2", "--no-postgres")
    try:
        cluster.wait_ready()
        for index, data in enumerate(documents):  # staged hidden, then all renamed at once: one wave of runs
            (settings.inbox / f".doc-{index:03d}.tmp").write_bytes(data)
        for index in range(DOCS):
            (settings.inbox / f".doc-{index:03d}.tmp").rename(settings.inbox / f"doc-{index:03d}.pdf")
        # Every file claimed (so no dispatched run is still to come), some still in the stages.
        wait_for(lambda: not list(settings.inbox.glob("*.pdf")), "the runs did not claim the files")
        runs = [run for worker in cluster.workers() for run in child_pids(worker)]
        assert runs, "no flow-run process under the workers"
        for run in runs:
            os.kill(run, signal.SIGKILL)
        wait_for(lambda: not any(Path(f"/proc/{run}").exists() for run in runs), "killed runs still alive", 10)
        stranded = len(list(settings.work_dir.glob("*.pdf")))
        assert stranded > 0, "too late to kill: the runs already finished"
        wait_for(lambda: len(list(settings.outbox.glob("*.json"))) == DOCS, "not every document finished", 180)
        wait_for(lambda: _taken_over(cluster) > 0, "the recovery run did not end", 60)
    finally:
        cluster.stop()
    assert cluster.process.returncode == 0, cluster.output[-3000:]
    assert "left in work/ by a dead run; started a run" in cluster.output, cluster.output[-3000:]
    assert _taken_over(cluster) == stranded, cluster.worker_logs()[-3000:]  # each taken over once
    assert_once_over_shards(settings, DOCS)
