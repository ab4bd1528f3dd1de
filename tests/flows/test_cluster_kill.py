"""Flow runs SIGKILLed mid-batch on pool workers: a recovery run finishes their documents, none lost (~45 s).

A real ``docval cluster up`` with two workers (SQLite server: the database is
not the point here). Once the two runs have claimed all 60 dropped documents,
both processes are killed while the stages run. Nothing more reaches the
inbox: the dispatcher sees documents left in ``work/`` (older than
``flows.stranded_seconds``) and starts a run with no names; whichever worker
takes it resumes its own shard's documents and finishes the other shard's in
that shard (flows/recovery.py). Every document ends with exactly one final
entry over both shards, in the shard that claimed it, and both shards verify.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from docval.settings import Settings
from docval.shards import shard_settings
from flows.env import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

DOCS = 60
FINAL = {"doc.published", "doc.rejected", "doc.quarantined", "approval.requested"}


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _worker_logs(settings: Settings) -> str:
    folder = settings.data_dir / "prefect"
    return "".join(path.read_text(encoding="utf-8", errors="replace") for path in sorted(folder.glob("worker-*.log")))


def _taken_over(settings: Settings) -> int:
    """Documents runs resumed (their own shard's) or adopted (another shard's), from the runs' summary lines."""
    return sum(int(n) for n in re.findall(r"'(?:resumed|adopted)': (\d+)", _worker_logs(settings)))


def test_killed_runs_are_finished_by_a_recovery_run_without_new_files(settings: Settings) -> None:
    from pipeline_bench import _documents

    from ledger import Ledger

    documents = _documents(settings.data_dir / "samples", DOCS)
    api_url = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ,
        "DOCVAL_FLOWS__PREFECT_API_URL": api_url,
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        "DOCVAL_FLOWS__STRANDED_SECONDS": "2",
    }
    command = [sys.executable, "-m", "docval", "cluster", "up", "--workers", "2", "--no-postgres"]
    cluster = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(cluster.stdout), daemon=True).start()
    try:
        _wait(lambda: any("Prefect UI" in line for line in lines), 120, "cluster did not come up")
        for index, data in enumerate(documents):  # staged hidden, then all renamed at once: one wave of runs
            (settings.inbox / f".doc-{index:03d}.tmp").write_bytes(data)
        for index in range(DOCS):
            (settings.inbox / f".doc-{index:03d}.tmp").rename(settings.inbox / f"doc-{index:03d}.pdf")
        # Every file claimed (so no dispatched run is still to come), some still in the stages.
        _wait(lambda: not list(settings.inbox.glob("*.pdf")), 120, "the runs did not claim the files")
        workers = [pid for pid in _children(cluster.pid) if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        runs = [run for worker in workers for run in _children(worker)]
        assert runs, "no flow-run process under the workers"
        for run in runs:
            os.kill(run, signal.SIGKILL)
        stranded = len(list(settings.work_dir.glob("*.pdf")))
        assert stranded > 0, "too late to kill: the runs already finished"
        _wait(lambda: len(list(settings.outbox.glob("*.json"))) == DOCS, 180, "not every document finished")
        _wait(lambda: _taken_over(settings) > 0, 60, "the recovery run did not end")
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(120)
    assert cluster.returncode == 0, "".join(lines[-30:])
    assert any("left in work/ by a dead run; started a run" in line for line in lines), "".join(lines[-30:])
    assert _taken_over(settings) == stranded, _worker_logs(settings)[-3000:]  # each taken over once

    finals: Counter[str] = Counter()
    for name in ("w1", "w2"):
        ledger = Ledger.open(shard_settings(settings, name))
        assert ledger.verify().ok
        claimed = {entry.doc for entry in ledger.entries() if str(entry.kind) == "doc.claimed"}
        final = [entry.doc for entry in ledger.entries() if str(entry.kind) in FINAL]
        assert set(final) <= claimed  # finished in the shard that claimed it
        finals.update(final)
    assert len(finals) == DOCS and set(finals.values()) == {1}  # each document decided once, none lost
    assert not list(settings.work_dir.glob("*.pdf"))
