"""``docval cluster up``: PostgreSQL, a Prefect server on it, the work pool, N workers and the dispatcher.

Everything runs on this machine for the demo; on several machines the same
pieces split: Postgres and the server on one host, ``prefect worker start``
on every host that mounts the shared data directory (flows/pool.py). The
dispatcher is the only process that watches the inbox: it turns stable files
into ``process-files`` flow runs and lets the work pool hand them out. A burst
is split evenly over the workers (at most ``max_chunk`` names per run): a run
costs a process start and a model load (~5 s on 2 cores), so fewer, larger runs
go faster, while a trickle still gets a run per file at once. It remembers what it dispatched, and dispatches a name
again only if the file is still in the inbox ``redispatch_seconds`` later (a
run that never started): a second run for the same file finds it taken and
skips it, so re-dispatching is safe.

Approval runs do not go to the pool: a run waiting days for a person would
hold a worker's only slot. They run in the served-deployments process
(``python -m flows.serve``, as in ``docval up``), which also anchors the shards
into the root every ``flows.anchor_seconds``; each approval run reads and
extends the shard of the worker that decided the document (flows/approval.py).
SIGINT/SIGTERM stop the dispatcher, then workers (each finishes its current
run), the served deployments, the server and Postgres, in that order.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from docval.settings import Settings
from flows.env import apply_prefect_env
from flows.watch import InboxWatcher

__all__ = ["Cluster", "Dispatcher", "cluster", "worker_names"]


def worker_names(count: int) -> list[str]:
    return [f"w{index}" for index in range(1, count + 1)]


@dataclass
class Dispatcher:
    """Stable inbox files → ``process-files`` runs on the pool; names only, never content."""

    inbox: Path
    stable_seconds: float
    workers: int
    max_chunk: int
    redispatch_seconds: float = 120.0
    dispatched: dict[Path, float] = field(default_factory=dict)
    runs: int = 0

    def dispatch(self, paths: list[Path], now: float | None = None) -> int:
        """Create flow runs for the names not dispatched recently, an even share per worker; returns the runs."""
        from prefect.deployments import run_deployment

        from flows.pool import DEPLOYMENT

        now = time.monotonic() if now is None else now
        due = [p for p in paths if now - self.dispatched.get(p, -self.redispatch_seconds) >= self.redispatch_seconds]
        created = 0
        size = min(self.max_chunk, max(1, math.ceil(len(due) / self.workers)))
        for start in range(0, len(due), size):
            part = due[start : start + size]
            run_deployment(DEPLOYMENT, parameters={"names": [p.name for p in part]}, timeout=0, as_subflow=False)
            self.dispatched.update(dict.fromkeys(part, now))
            created += 1
        self.runs += created
        return created

    def run(self, stop: threading.Event, *, idle: Callable[[], bool] | None = None, poll_seconds: float = 0.5) -> None:
        """Dispatch until ``stop`` is set, or until ``idle()`` says the cluster has nothing left to do."""
        with InboxWatcher(self.inbox, self.stable_seconds) as watcher:
            while not stop.is_set():
                ready = watcher.ready()
                self.dispatch(ready)
                self.dispatched = {p: t for p, t in self.dispatched.items() if p.exists()}
                if not ready and idle is not None and not watcher.waiting and not self.dispatched and idle():
                    return
                self._redispatch_stale()
                stop.wait(poll_seconds)

    def _redispatch_stale(self) -> None:
        """Files still in the inbox ``redispatch_seconds`` after their run was created: that run never started."""
        now = time.monotonic()
        stale = [p for p, t in self.dispatched.items() if now - t >= self.redispatch_seconds]
        if stale:
            self.dispatch(stale, now)


@dataclass
class Cluster:
    settings: Settings
    api_url: str
    workers: list[str]
    dispatcher: Dispatcher


def runs_in_flight() -> int:
    """``process-files`` runs not yet finished, as the server sees them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    live = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
    with get_client(sync_client=True) as client:
        return client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=live)),
                tags=FlowRunFilterTags(all_=["cluster"]),
            )
        )


@contextmanager
def cluster(
    settings: Settings,
    *,
    workers: int = 3,
    max_chunk: int | None = None,
    postgres: bool = True,
    say: Callable[[str], None] = print,
) -> Iterator[Cluster]:
    """Postgres (unless ``postgres=False``: SQLite, the baseline), server, pool, workers; all stopped on exit."""
    from flows.appliance import prepare
    from flows.postgres import Postgres
    from flows.server import PrefectServer

    api_url = settings.flows.prefect_api_url
    prepare(settings)
    apply_prefect_env(settings, api_url)
    with ExitStack() as stack:
        database_url = None
        if postgres:
            database = Postgres.of(settings)
            database.create()
            database.start()
            stack.callback(database.stop)
            database_url = database.url()
            say(f"PostgreSQL 15 on 127.0.0.1:{database.port} ({database.folder})")
        server = PrefectServer.ensure(settings, api_url, database_url=database_url)
        stack.callback(server.stop)
        if server.process is None:
            say(f"Prefect server {api_url}: reusing the one already answering (its own database)")
        else:
            say(f"Prefect server {api_url} ({'PostgreSQL' if postgres else 'SQLite'})")
        from flows.appliance import ServeProcess
        from flows.pool import PoolWorker, deploy, prepare_shard
        from flows.runs import APPROVAL_DEPLOYMENT, replace_orphaned_runs

        served = ServeProcess.start(settings)
        stack.callback(served.stop)
        served.wait_for_deployment(APPROVAL_DEPLOYMENT)
        restarted = replace_orphaned_runs(settings)
        say(
            f"served deployments: approvals, anchor-shards every {settings.flows.anchor_seconds:g} s"
            + (f"; {restarted} waiting documents got their approval runs back" if restarted else "")
        )
        deploy()
        names = worker_names(workers)
        for name in names:
            prepare_shard(settings, name)
            stack.callback(PoolWorker.start(settings, name, api_url).stop)
        say(f"work pool 'docval': {workers} process workers ({', '.join(names)}), each writing shards/<name>/")
        dispatcher = Dispatcher(
            settings.inbox, settings.flows.stable_seconds, workers, max_chunk or settings.flows.batch_max
        )
        yield Cluster(settings=settings, api_url=api_url, workers=names, dispatcher=dispatcher)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
