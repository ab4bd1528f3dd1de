"""Many workers: the ``process-files`` flow deployed to a Prefect ``process`` work pool, and its workers.

Distribution is Prefect's, not ours: the dispatcher (flows/cluster/dispatcher.py)
creates one ``process-files`` flow run per chunk of inbox file names, the work
pool queues them, and whichever ``prefect worker`` polls first runs one in a
child process. The run claims each named file itself (flows/claim.py: an
atomic rename into the shared ``work/`` under the document store's file lock),
so a file another worker took first is skipped and counted, and bytes already
claimed under another name are recorded as a duplicate: every document is
claimed and decided exactly once. Each worker carries its shard's environment
(h7 interface: ``data_dir/shards/NAME``), so every run it executes writes
that shard of the ledger. Parameters are file names, never content. Before
claiming, a run finishes what dead runs left in ``work/``, under run locks
that keep it exactly-once (flows/cluster/recovery.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from prefect import flow

from docval.settings import Settings
from docval.shards import shard_env, shard_name_of, shard_settings
from flows.cluster.recovery import own_run_lock, take_over
from flows.env import prefect_env, prefect_home
from flows.errors import FlowError
from flows.pipeline import Context
from flows.worker import Worker

__all__ = [
    "DEPLOYMENT",
    "POOL",
    "PoolWorker",
    "deploy",
    "prepare_shard",
    "process_files",
]

log = logging.getLogger(__name__)

POOL = "docval"
FLOW_NAME = "process-files"
DEPLOYMENT = f"{FLOW_NAME}/cluster"
REPO = Path(__file__).resolve().parents[2]


def _inbox_file(inbox: Path, name: str) -> Path | None:
    """``inbox/name`` if ``name`` is one plain path component; parameters come over the API, so check them."""
    if not name or name in {".", ".."} or "/" in name or "\0" in name or name.startswith("."):
        return None
    return inbox / name


@flow(name=FLOW_NAME, persist_result=False, log_prints=False)
def process_files(names: list[str]) -> dict[str, int]:
    """Finish what dead runs left in ``work/`` (recovery.py), claim the named inbox files, run every stage.

    ``names=[]`` is the dispatcher's recovery run: it only takes over documents left in ``work/``.
    """
    from flows.batch import worker_context

    ctx = worker_context()
    shard = shard_name_of(ctx.settings)
    if shard is None:
        raise FlowError("process-files writes a ledger shard: start its worker with `docval ledger shard-env NAME`")
    with own_run_lock(ctx.settings, shard), take_over(ctx, shard) as takeover:
        worker = _worker(ctx, None)
        worker.run_batch(takeover.own, resumed=True)
        adopted = 0
        for other, docs in takeover.others.items():
            adopted += _finish_for(other, docs)
            takeover.release(other)
        paths = [path for name in names if (path := _inbox_file(ctx.settings.inbox, name)) is not None]
        docs = worker.claim(paths)
        worker.run_batch(docs, resumed=False)
        ctx.audit.checkpoint()  # the shard is signed after every run, so the anchor and verify see all of it
    counts = {
        "names": len(names),
        "claimed": len(docs),
        "taken_elsewhere": worker.taken_elsewhere,
        "resumed": len(takeover.own),
        "adopted": adopted,
    }
    for state in worker.states.values():
        counts[state] = counts.get(state, 0) + 1
    log.warning("process-files: %s", counts)
    return counts


def _worker(ctx: Context, shard: str | None) -> Worker:
    """A worker whose batches write ``shard``'s ledger (None: this process's own shard); documents that
    start to wait get the next approval deadline scheduled (their state lives in that ledger)."""
    from flows.approvals.deadlines import schedule_next_deadline
    from flows.batch import process_batch

    def process(docs: list[str], resumed: bool) -> dict[str, str]:
        return process_batch.fn(docs, resumed, shard)

    return Worker(ctx, process=process, request_approvals=lambda docs: schedule_next_deadline(ctx.settings))


def _finish_for(shard: str, docs: list[str]) -> int:
    """A dead run's documents of another shard, finished and signed in that shard (its run lock is held)."""
    from flows.batch import context_for

    ctx = context_for(shard)
    _worker(ctx, shard).run_batch(docs, resumed=True)
    ctx.audit.checkpoint()
    return len(docs)


def deploy(pool: str = POOL) -> None:
    """The ``process`` work pool and the ``process-files`` deployment from this checkout (no image, no network)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    source = flow.from_source(source=str(REPO), entrypoint="flows/cluster/pool.py:process_files")
    with contextlib.redirect_stdout(io.StringIO()):  # deploy() prints a table and tips meant for a terminal
        source.deploy(
            name="cluster",
            work_pool_name=pool,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
            description="Claim and process named inbox files on whichever worker takes the run.",
            tags=["cluster"],
        )


@dataclass
class PoolWorker:
    """One ``prefect worker start --type process`` child that writes ledger shard ``name``."""

    name: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, settings: Settings, name: str, api_url: str, *, pool: str = POOL) -> PoolWorker:
        env = {
            **os.environ,
            **prefect_env(settings, api_url),
            **shard_env(settings, name),
            "DOCVAL_DATA_DIR": str(settings.data_dir.resolve()),
            "DOCVAL_FLOWS__PREFECT_API_URL": api_url,
            "PREFECT_WORKER_QUERY_SECONDS": "1",  # poll every second: a queued run starts in ~2 s, not ~10 s
            "PREFECT_WORKER_PREFETCH_SECONDS": "0",
        }
        log_path = prefect_home(settings) / f"worker-{name}.log"
        command = [
            *[sys.executable, "-m", "prefect", "worker", "start"],
            *["--pool", pool, "--type", "process", "--name", name, "--limit", "1"],
        ]
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
            )
        return cls(name=name, process=process)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the worker stops polling and lets its current run finish (killed after ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def prepare_shard(settings: Settings, name: str) -> None:
    """Shard ``name``'s folder and signing key, made before its worker starts (workers never race on it)."""
    from flows.appliance import prepare

    prepare(shard_settings(settings, name))
