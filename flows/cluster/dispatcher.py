"""``docval cluster up``: PostgreSQL, a Prefect server on it, the work pool, N workers and the dispatcher.

Everything runs on this machine for the demo; on several machines the same
pieces split: Postgres and the server on one host, ``prefect worker start``
on every host that mounts the shared data directory (flows/cluster/pool.py). The
dispatcher is the only process that watches the inbox: it turns stable files
into ``process-files`` flow runs and lets the work pool hand them out. A burst
is split evenly over the workers (at most ``max_chunk`` names per run): a run
costs a process start and a model load (~5 s on 2 cores), so fewer, larger runs
go faster, while a trickle still gets a run per file at once. It remembers what it dispatched, and dispatches a name
again only if the file is still in the inbox ``redispatch_seconds`` later (a
run that never started): a second run for the same file finds it taken and
skips it, so re-dispatching is safe. While the server or its PostgreSQL is
down, runs that cannot be created wait and are retried with growing delays
(the files stay in the inbox; workers keep polling). Documents a dead run
left in ``work/`` get a run with no names (flows/cluster/recovery.py), so they do not
wait for inbox traffic.

Waiting documents hold no run at all; the short publish and deadline runs
execute in the served-deployments process (``python -m flows.serve``, as in
``docval up``), which also anchors the shards into the root every
``flows.anchor_seconds``; a decision extends the shard of the worker that
decided the document, checked against the root's enrolment (flows/approvals/).
SIGINT/SIGTERM stop the dispatcher, then workers (each finishes its current
run), the served deployments, the server and Postgres, in that order.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from docval.errors import DocvalError
from docval.settings import Settings
from flows.env import apply_prefect_env
from flows.watch import InboxWatcher

if TYPE_CHECKING:
    from flows.cluster.postgres import Postgres

__all__ = ["Cluster", "Dispatcher", "cluster", "worker_names"]

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
SLOW_SECONDS = 3.0  # creating a run takes ~0.1 s; this long means the server waits on its database


def worker_names(count: int) -> list[str]:
    return [f"w{index}" for index in range(1, count + 1)]


@dataclass
class Dispatcher:
    """Stable inbox files → ``process-files`` runs on the pool; names only, never content.

    The Prefect server (or its PostgreSQL) may be down for a while: a run that cannot be created is not an
    error of the cluster. Its names wait in ``held`` and are tried again after 1, 2, 4 ... s (at most
    ``RETRY_MAX_SECONDS``), with one log line per attempt naming the cause, and one when it answers again.
    With ``settings`` (``docval cluster up``), documents a dead run left in ``work/`` (flows/cluster/recovery.py) get
    a run with no names once they are ``flows.stranded_seconds`` old and a run starting now could take them over.
    """

    inbox: Path
    stable_seconds: float
    workers: int
    max_chunk: int
    redispatch_seconds: float = 120.0
    settings: Settings | None = None
    database: Postgres | None = None
    dispatched: dict[Path, float] = field(default_factory=dict)
    held: list[Path] = field(default_factory=list)
    runs: int = 0
    recovery_runs: int = 0
    failures: int = 0
    retry_at: float = 0.0
    next_recovery: float = 0.0
    recovery_run: UUID | None = None
    recovery_since: float = 0.0

    def dispatch(self, paths: list[Path], now: float | None = None) -> int:
        """Create flow runs for the names not dispatched recently, an even share per worker; returns the runs."""
        now = time.monotonic() if now is None else now
        due = [p for p in paths if now - self.dispatched.get(p, -self.redispatch_seconds) >= self.redispatch_seconds]
        due = list(dict.fromkeys([*self.held, *due]))
        self.held = []
        if due and now < self.retry_at:  # the server failed lately: wait for the next attempt
            self.held = due
            return 0
        created = 0
        size = min(self.max_chunk, max(1, math.ceil(len(due) / self.workers)))
        for start in range(0, len(due), size):
            part = due[start : start + size]
            if self._create_run([p.name for p in part], f"{len(due) - start} inbox files wait", now) is None:
                self.held = due[start:]
                break
            self.dispatched.update(dict.fromkeys(part, now))
            created += 1
        self.runs += created
        return created

    def _create_run(self, names: list[str], waiting: str, now: float) -> UUID | None:
        """One ``process-files`` run, its id; None (logged, retried later) if the server cannot take it now."""
        from prefect.deployments import run_deployment

        from flows.cluster.pool import DEPLOYMENT

        started = time.monotonic()
        try:
            created = run_deployment(DEPLOYMENT, parameters={"names": names}, timeout=0, as_subflow=False)
        except Exception as exc:  # server, database or network: anything but ours; the files are still there
            self.failures += 1
            delay = min(RETRY_FIRST_SECONDS * 2 ** (self.failures - 1), RETRY_MAX_SECONDS)
            self.retry_at = now + delay
            log.error(
                "dispatcher: creating a flow run failed (%s); %s, retry %d in %.0f s",
                self._cause(exc), waiting, self.failures, delay,
            )  # fmt: skip
            return None
        took = time.monotonic() - started
        if took >= SLOW_SECONDS:
            log.warning(
                "dispatcher: the Prefect server took %.1f s to create a flow run (its database is slow or locked)", took
            )
        if self.failures:
            log.warning("dispatcher: the Prefect server takes runs again after %d failed attempts", self.failures)
            self.failures = 0
        return created.id

    def recover(self, now: float | None = None) -> bool:
        """A run with no names if dead runs left documents in ``work/`` (checked every ``stranded_seconds``).

        One at a time: while the last one has not finished (a run takes seconds to start), the documents
        still look left behind, and a second run would only find them taken. After ``redispatch_seconds``
        the last one no longer counts (a run that died while the server was down may never be marked).
        """
        from flows.cluster.recovery import left_behind

        now = time.monotonic() if now is None else now
        if self.settings is None or now < max(self.next_recovery, self.retry_at):
            return False
        self.next_recovery = now + self.settings.flows.stranded_seconds
        last = self.recovery_run
        if last is not None and now - self.recovery_since < self.redispatch_seconds and not self._finished(last):
            return False
        try:
            count = left_behind(self.settings, self.settings.flows.stranded_seconds)
        except (DocvalError, OSError) as exc:  # a shard's ledger locked too long, a file gone: look again later
            log.error("dispatcher: cannot check work/ for documents left by dead runs (%s)", exc)
            return False
        if not count:
            return False
        self.recovery_run = self._create_run([], f"{count} documents left in work/ wait", now)
        if self.recovery_run is None:
            return False
        self.recovery_since = now
        log.warning("dispatcher: %d documents left in work/ by a dead run; started a run to finish them", count)
        self.recovery_runs += 1
        return True

    def _cause(self, exc: Exception) -> str:
        """The exception, first line only; led by the database's state when the server's own database is down."""
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        cause = f"{type(exc).__name__}: {first}"
        if self.database is not None and not self.database.running():
            return f"PostgreSQL on 127.0.0.1:{self.database.port} is not accepting connections; the server said {cause}"
        return cause

    @staticmethod
    def _finished(run_id: UUID) -> bool:
        """Whether flow run ``run_id`` has ended; False while the server cannot tell (ask again later)."""
        from prefect.client.orchestration import get_client

        try:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state
        except Exception:  # the server is down: the retry of run creation says so in the log
            return False
        return state is None or state.is_final()

    def run(self, stop: threading.Event, *, idle: Callable[[], bool] | None = None, poll_seconds: float = 0.5) -> None:
        """Dispatch until ``stop`` is set, or until ``idle()`` says the cluster has nothing left to do."""
        with InboxWatcher(self.inbox, self.stable_seconds) as watcher:
            while not stop.is_set():
                ready = watcher.ready()
                self.dispatch(ready)
                self.dispatched = {p: t for p, t in self.dispatched.items() if p.exists()}
                self.held = [p for p in self.held if p.exists()]
                if not ready and idle is not None and self._quiet(watcher) and _answers(idle):
                    return
                self._redispatch_stale()
                self.recover()
                stop.wait(poll_seconds)

    def _quiet(self, watcher: InboxWatcher) -> bool:
        """Nothing waits in the inbox, in ``held`` or in ``work/`` (documents a dead run left count too)."""
        in_work = self.settings is not None and any(self.settings.work_dir.glob("*.pdf"))
        return not watcher.waiting and not self.dispatched and not self.held and not in_work

    def _redispatch_stale(self) -> None:
        """Files still in the inbox ``redispatch_seconds`` after their run was created: that run never started."""
        now = time.monotonic()
        stale = [p for p, t in self.dispatched.items() if now - t >= self.redispatch_seconds]
        if stale:
            self.dispatch(stale, now)


def _answers(question: Callable[[], bool]) -> bool:
    """``question()``, or False while the server cannot answer it (the dispatcher keeps going)."""
    try:
        return question()
    except Exception as exc:  # the server or its database is down
        log.error("dispatcher: the Prefect server does not answer (%s); asking again", type(exc).__name__)
        return False


@dataclass
class Cluster:
    settings: Settings
    api_url: str
    workers: list[str]
    dispatcher: Dispatcher


def runs_in_flight(settings: Settings) -> int:
    """``process-files`` runs queued on the server, plus runs alive (holding their shard's run lock).

    A run that died while the server or its database was down may stay RUNNING on the server for good
    (nobody could mark it crashed), so for running runs the kernel's word is taken: a live run holds its
    shard's run lock (flows/cluster/recovery.py), a dead one cannot.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    from flows.cluster.recovery import live_shards

    queued = [StateType.SCHEDULED, StateType.PENDING]
    with get_client(sync_client=True) as client:
        waiting = client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=queued)),
                tags=FlowRunFilterTags(all_=["cluster"]),
            )
        )
    return waiting + len(live_shards(settings))


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
    from flows.cluster.postgres import Postgres
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
        from flows.appliance import ServeProcess, resume_approvals
        from flows.approvals.publish import PUBLISH_DEPLOYMENT
        from flows.cluster.pool import PoolWorker, deploy, prepare_shard

        served = ServeProcess.start(settings, anchor=True)
        stack.callback(served.stop)
        served.wait_for_deployment(PUBLISH_DEPLOYMENT)
        finished = resume_approvals(settings)
        say(
            f"served deployments: publish, deadlines, anchor-shards every {settings.flows.anchor_seconds:g} s"
            + (f"; {finished} decided documents published" if finished else "")
        )
        deploy()
        names = worker_names(workers)
        for name in names:
            prepare_shard(settings, name)
            stack.callback(PoolWorker.start(settings, name, api_url).stop)
        say(f"work pool 'docval': {workers} process workers ({', '.join(names)}), each writing shards/<name>/")
        dispatcher = Dispatcher(
            settings.inbox,
            settings.flows.stable_seconds,
            workers,
            max_chunk or settings.flows.batch_max,
            settings=settings,
            database=database if postgres else None,
        )
        yield Cluster(settings=settings, api_url=api_url, workers=names, dispatcher=dispatcher)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
