"""Faults in the PostgreSQL under the Prefect server, while a real cluster processes documents (~60 s).

One ``docval cluster up`` (PostgreSQL, Prefect server on it, two process
workers, the dispatcher) and two faults, each while runs are mid-batch:

(a) PostgreSQL stopped (``pg_ctl stop -m fast``, what a crash or a restart of
    the database looks like to its clients) for a few seconds, then started;
(b) the ``flow_run`` table locked (``LOCK TABLE flow_run IN ACCESS EXCLUSIVE
    MODE`` held in an open transaction) for a few seconds.

After each, files dropped during the fault must still be dispatched, and
every document must end with exactly one final ledger entry over all shards
(in the shard that claimed it), one outbox file each, the root and every
shard verifying after an anchor pass, and the operator told what happened.
The data directory is made with ``tempfile`` (mode 755) because PostgreSQL
runs as its own user when the tests run as root and must reach its folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from docval.settings import Settings, load_settings
from flows.env import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

PER_PHASE = 8
OUTAGE_SECONDS = 4.0
LOCK_SECONDS = 6.0
FINAL = {"doc.published", "doc.rejected", "doc.quarantined", "approval.requested"}


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="docval-pg-fault-"))
    root.chmod(0o755)
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(root / "var"))
    monkeypatch.setenv("DOCVAL_CONFIG", str(root / "docval.toml"))
    yield root / "var"
    shutil.rmtree(root, ignore_errors=True)


class Running:
    """``docval cluster up`` in a child process, its output collected line by line."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "docval", "cluster", "up", "--workers", "2"]
        self.settings = settings
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def worker_logs(self) -> str:
        folder = self.settings.data_dir / "prefect"
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("worker-*.log")))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(180)


def _drop(settings: Settings, documents: list[bytes], tag: str) -> None:
    for index, data in enumerate(documents):  # staged hidden, then renamed in: whole files appear at once
        (settings.inbox / f".{tag}-{index:03d}.tmp").write_bytes(data)
    for index in range(len(documents)):
        (settings.inbox / f".{tag}-{index:03d}.tmp").rename(settings.inbox / f"{tag}-{index:03d}.pdf")


def _mid_batch(settings: Settings, done: int) -> None:
    """Wait until runs have claimed files of the new phase and are in their stages."""
    _wait(lambda: any(settings.work_dir.glob("*.pdf")), 120, "no run claimed the dropped files")
    assert len(list(settings.outbox.glob("*.json"))) < done + PER_PHASE, "too late: the phase already finished"


def _lock_flow_run_table(settings: Settings, seconds: float, locked: threading.Event) -> None:
    """Hold ``flow_run`` in ACCESS EXCLUSIVE mode for ``seconds`` as the superuser, in one open transaction."""
    import asyncpg

    from docval.keyfile import read_secret
    from flows.postgres import Postgres

    database = Postgres.of(settings)
    password = read_secret(settings.keys_dir.resolve() / "postgres.password").decode().strip()

    async def hold() -> None:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=database.port, user="postgres", password=password, database="prefect"
        )
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE flow_run IN ACCESS EXCLUSIVE MODE")
                locked.set()
                await asyncio.sleep(seconds)
        finally:
            await connection.close()

    asyncio.run(hold())


def _assert_recorded_once(settings: Settings, total: int) -> None:
    from docval.shards import shard_names, shard_settings
    from ledger import Ledger
    from ledger.anchor import anchor_shards
    from ledger.verify_shards import verify_installation

    finals: Counter[str] = Counter()
    for name in shard_names(settings):
        entries = list(Ledger.open(shard_settings(settings, name)).entries())
        claimed = {entry.doc for entry in entries if str(entry.kind) == "doc.claimed"}
        final = [entry.doc for entry in entries if str(entry.kind) in FINAL]
        assert set(final) <= claimed, f"shard {name} finished a document another shard claimed"
        finals.update(final)
    assert len(finals) == total and set(finals.values()) == {1}, finals.most_common(3)  # none lost, none twice
    assert len(list(settings.outbox.glob("*.json"))) == total
    assert not list(settings.work_dir.glob("*.pdf")) and not list(settings.inbox.glob("*.pdf"))
    assert not anchor_shards(settings, None).refused
    report = verify_installation(settings)
    assert report.ok, report.summary()


def test_postgres_stopped_then_table_locked_mid_batch(data_dir: Path) -> None:
    from pipeline_bench import _documents

    from flows.postgres import Postgres

    settings = load_settings()
    documents = [_documents(data_dir.parent / "samples", 4 * PER_PHASE)[i::4] for i in range(4)]
    env = {
        **os.environ,
        "DOCVAL_FLOWS__PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        "DOCVAL_FLOWS__STRANDED_SECONDS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    cluster = Running(settings, env)
    try:
        _wait(lambda: "Prefect UI" in cluster.output, 180, "cluster did not come up:\n" + cluster.output[-2000:])
        database = Postgres.of(settings)

        # (a) PostgreSQL stops mid-batch; files dropped while it is down wait in the inbox.
        _drop(settings, documents[0], "a")
        _mid_batch(settings, 0)
        database.stop()
        _drop(settings, documents[1], "b")
        time.sleep(OUTAGE_SECONDS)
        assert cluster.process.poll() is None, "cluster up died with PostgreSQL:\n" + cluster.output[-3000:]
        database.start()
        _wait(lambda: len(list(settings.outbox.glob("*.json"))) == 2 * PER_PHASE, 180, "(a): not every doc finished")

        # (b) the flow_run table locked mid-batch; files dropped meanwhile are dispatched once it is free.
        _drop(settings, documents[2], "c")
        _mid_batch(settings, 2 * PER_PHASE)
        locked = threading.Event()
        holder = threading.Thread(target=_lock_flow_run_table, args=(settings, LOCK_SECONDS, locked))
        holder.start()
        assert locked.wait(30), "could not lock flow_run"
        _drop(settings, documents[3], "d")
        holder.join()
        _wait(lambda: len(list(settings.outbox.glob("*.json"))) == 4 * PER_PHASE, 180, "(b): not every doc finished")
        _wait(lambda: not any(settings.work_dir.glob("*.pdf")), 60, "documents left in work/")
    finally:
        cluster.stop()
        print(cluster.output[-4000:])
        print(cluster.worker_logs()[-8000:])
    assert cluster.process.returncode == 0, cluster.output[-3000:]
    _assert_recorded_once(settings, 4 * PER_PHASE)
    # The operator is told, in the cluster's own output, what stopped the dispatching and when it resumed.
    output = cluster.output
    assert re.search(
        r"dispatcher: creating a flow run failed \(PostgreSQL on 127\.0\.0\.1:\d+ is not accepting", output
    )
    assert "dispatcher: the Prefect server takes runs again" in output
    assert re.search(r"dispatcher: the Prefect server took \d+\.\d s to create a flow run \(its database", output)
