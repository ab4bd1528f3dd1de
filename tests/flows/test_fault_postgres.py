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
import sys
import threading
import time
from pathlib import Path

import pytest
from flowcheck import ClusterUp, assert_once_over_shards, wait_for

from docval.settings import Settings, load_settings
from flows.env import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

PER_PHASE = 8
OUTAGE_SECONDS = 4.0
LOCK_SECONDS = 6.0


def _drop(settings: Settings, documents: list[bytes], tag: str) -> None:
    for index, data in enumerate(documents):  # staged hidden, then renamed in: whole files appear at once
        (settings.inbox / f".{tag}-{index:03d}.tmp").write_bytes(data)
    for index in range(len(documents)):
        (settings.inbox / f".{tag}-{index:03d}.tmp").rename(settings.inbox / f"{tag}-{index:03d}.pdf")


def _mid_batch(settings: Settings, done: int) -> None:
    """Wait until runs have claimed files of the new phase and are in their stages."""
    wait_for(lambda: any(settings.work_dir.glob("*.pdf")), "no run claimed the dropped files")
    assert len(list(settings.outbox.glob("*.json"))) < done + PER_PHASE, "too late: the phase already finished"


def _lock_flow_run_table(settings: Settings, seconds: float, locked: threading.Event) -> None:
    """Hold ``flow_run`` in ACCESS EXCLUSIVE mode for ``seconds`` as the superuser, in one open transaction."""
    import asyncpg

    from docval.keyfile import read_secret
    from flows.cluster.postgres import Postgres

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


def test_postgres_stopped_then_table_locked_mid_batch(postgres_settings: Settings) -> None:
    from pipeline_bench import _documents

    from flows.cluster.postgres import Postgres

    settings = postgres_settings
    documents = [_documents(settings.data_dir.parent / "samples", 4 * PER_PHASE)[i::4] for i in range(4)]
    env = {
        **os.environ,
        "DOCVAL_FLOWS__PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        "DOCVAL_FLOWS__STRANDED_SECONDS": "3",
        "PYTHONUNBUFFERED": "1",
    }
    cluster = ClusterUp(settings, env, "--workers", "2")
    try:
        cluster.wait_ready()
        database = Postgres.of(settings)

        # (a) PostgreSQL stops mid-batch; files dropped while it is down wait in the inbox.
        _drop(settings, documents[0], "a")
        _mid_batch(settings, 0)
        database.stop()
        _drop(settings, documents[1], "b")
        time.sleep(OUTAGE_SECONDS)
        assert cluster.process.poll() is None, "cluster up died with PostgreSQL:\n" + cluster.output[-3000:]
        database.start()
        wait_for(lambda: len(list(settings.outbox.glob("*.json"))) == 2 * PER_PHASE, "(a): not every doc finished")

        # (b) the flow_run table locked mid-batch; files dropped meanwhile are dispatched once it is free.
        _drop(settings, documents[2], "c")
        _mid_batch(settings, 2 * PER_PHASE)
        locked = threading.Event()
        holder = threading.Thread(target=_lock_flow_run_table, args=(settings, LOCK_SECONDS, locked))
        holder.start()
        assert locked.wait(30), "could not lock flow_run"
        _drop(settings, documents[3], "d")
        holder.join()
        wait_for(lambda: len(list(settings.outbox.glob("*.json"))) == 4 * PER_PHASE, "(b): not every doc finished")
        wait_for(lambda: not any(settings.work_dir.glob("*.pdf")), "documents left in work/", 60)
        assert len(cluster.workers()) == 2, "a worker died:\n" + cluster.worker_logs()[-3000:]
    finally:
        cluster.stop()
        print(cluster.output[-4000:])
        print(cluster.worker_logs()[-8000:])
    assert cluster.process.returncode == 0, cluster.output[-3000:]
    assert "cluster stopped cleanly" in cluster.output
    assert_once_over_shards(settings, 4 * PER_PHASE)
    # The operator is told, in the cluster's own output, what stopped the dispatching and when it resumed.
    output = cluster.output
    assert re.search(
        r"dispatcher: creating a flow run failed \(PostgreSQL on 127\.0\.0\.1:\d+ is not accepting", output
    )
    assert "dispatcher: the Prefect server takes runs again" in output
    assert re.search(r"dispatcher: the Prefect server took \d+\.\d s to create a flow run \(its database", output)


@pytest.mark.skipif(os.geteuid() != 0, reason="the hand-over to PostgreSQL's own user happens only as root")
def test_a_data_directory_postgresql_cannot_reach_is_named_with_the_fix(postgres_settings: Settings) -> None:
    """A 0700 folder above the data directory (docval creates its folders 0700) used to fail inside initdb."""
    from flows.cluster.postgres import Postgres
    from flows.errors import FlowError

    hidden = postgres_settings.data_dir.parent / "private"
    hidden.mkdir(mode=0o700)
    settings = load_settings(data_dir=hidden / "var")
    settings.ensure_dirs()
    with pytest.raises(FlowError, match=rf"{hidden} is not searchable by others; .*chmod o\+x {hidden}"):
        Postgres.of(settings).create()
