"""A flow run SIGKILLed mid-batch on a pool worker: the worker's next run resumes its documents, none lost (~40 s).

A real ``docval cluster up`` with one worker (SQLite server: the database is
not the point here). Once the run has claimed all 60 dropped documents, its
process is killed while the stages run; one more file then triggers the next
run, which resumes the stranded documents from the shard's ledger history.
Every document ends with exactly one final entry in the shard, which verifies.
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


def _drop(inbox: Path, name: str, data: bytes) -> None:
    (inbox / f".{name}.tmp").write_bytes(data)
    (inbox / f".{name}.tmp").rename(inbox / name)


def test_killed_run_is_resumed_by_the_workers_next_run(settings: Settings) -> None:
    from pipeline_bench import _documents

    from ledger import Ledger

    documents = _documents(settings.data_dir / "samples", DOCS + 1)
    api_url = f"http://127.0.0.1:{free_port()}/api"
    env = {**os.environ, "DOCVAL_FLOWS__PREFECT_API_URL": api_url, "DOCVAL_FLOWS__STABLE_SECONDS": "0.3"}
    command = [sys.executable, "-m", "docval", "cluster", "up", "--workers", "1", "--no-postgres"]
    cluster = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(cluster.stdout), daemon=True).start()
    try:
        _wait(lambda: any("Prefect UI" in line for line in lines), 120, "cluster did not come up")
        for index, data in enumerate(documents[:DOCS]):
            _drop(settings.inbox, f"doc-{index:03d}.pdf", data)
        _wait(lambda: len(list(settings.work_dir.glob("*.pdf"))) == DOCS, 120, "the run did not claim the batch")
        time.sleep(1.0)  # claims ledgered; the stages are running
        assert len(list(settings.outbox.glob("*.json"))) < DOCS, "too late to kill: the batch already finished"
        workers = [pid for pid in _children(cluster.pid) if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        runs = [run for worker in workers for run in _children(worker)]
        assert runs, "no flow-run process under the worker"
        for run in runs:
            os.kill(run, signal.SIGKILL)
        _drop(settings.inbox, "one-more.pdf", documents[DOCS])
        _wait(lambda: len(list(settings.outbox.glob("*.json"))) == DOCS + 1, 180, "not every document finished")
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(120)
    assert cluster.returncode == 0, "".join(lines[-30:])
    log = (settings.data_dir / "prefect" / "worker-w1.log").read_text(encoding="utf-8", errors="replace")
    resumed = [int(n) for n in re.findall(r"'resumed': (\d+)", log)]
    assert resumed and max(resumed) > 0, log[-3000:]  # the next run took over the killed run's documents

    ledger = Ledger.open(shard_settings(settings, "w1"))
    assert ledger.verify().ok
    finals = Counter(entry.doc for entry in ledger.entries() if str(entry.kind) in FINAL)
    assert len(finals) == DOCS + 1 and set(finals.values()) == {1}  # each document decided once, none lost
    assert not list(settings.work_dir.glob("*.pdf"))
