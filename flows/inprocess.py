"""Runs of a served deployment executed in this process, so the Prefect UI shows the work under its deployment.

``prefect.serve`` starts each run it picks up in a child process: an interpreter start and the imports of
flows/, about 2 s on 2 cores, before any work. Work the appliance process starts itself (the watcher's
batches, the workbench's publishing, a decision ``docval approve`` hands over) is created from the deployment
in state Pending, which the serving process never picks up (it takes Scheduled runs only), and is run here,
where models and connections are warm. Without the deployment (``docval process``, ``docval review``, a test)
the flow is called directly.

Either way the run sends no heartbeats and is not watched for suspension. Prefect's engine emits a heartbeat every
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` (180 s) from a thread that sleeps in 1 s steps and is joined when the run
ends: every run, however short, waited up to a second for it (0.6 s of a one-document batch's 1.3 s, profiled).
Heartbeats only feed a zombie-run automation, which docval does not create; a run the appliance loses to a crash is
resumed from the ledger at its next start, not detected by its heartbeats. And for a run of a deployment the engine
starts a suspension observer: a thread with its own event loop, API client and events websocket, waited for before
the flow starts and stopped by a poll every 0.2 s after it ends (~0.25 s of every batch, ``benchmarks/README.md``,
session 18). Suspending means the run exits and a worker starts it again later; these runs are started here and
never by a worker, and docval suspends none, so the engine is handed the run without its deployment id (the
server's record keeps it: the run still shows under its deployment).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prefect import Flow

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

__all__ = ["one_client", "pending_run", "run_created", "run_here"]


@contextmanager
def one_client() -> Iterator[None]:
    """One Prefect API client for every run this thread creates and runs in the block (the worker's loop).

    Otherwise each batch made two: one to create its run, one for the engine to run it, each ~18 ms of CPU to load
    the system's CA certificates into an SSL context, then a version check and a new connection. A stale
    connection is retried by Prefect's client (``ReadError``, ``RemoteProtocolError``).
    """
    from prefect.context import SyncClientContext

    with SyncClientContext.get_or_create():
        yield


def run_here(flow: Flow, deployment: str, parameters: dict[str, Any], *, name: str | None = None) -> Any:
    """Run ``flow`` with ``parameters`` (ids only) in this process as a run of ``deployment``; its result."""
    return run_created(flow, pending_run(deployment, parameters, name=name), parameters)


def pending_run(deployment: str, parameters: dict[str, Any], *, name: str | None = None) -> FlowRun | None:
    """A run of ``deployment`` created Pending, for this process to run (None: no such deployment).

    Created apart from running it, so a caller can name the run (its id) before the work is done.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Pending

    with get_client(sync_client=True) as client:
        try:
            found = client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return None
        return client.create_flow_run_from_deployment(found.id, parameters=parameters, state=Pending(), name=name)


def run_created(flow: Flow, run: FlowRun | None, parameters: dict[str, Any]) -> Any:
    """Run ``flow`` as ``run`` (from ``pending_run``), or as a plain call when there was no deployment."""
    from prefect.flow_engine import run_flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):  # this thread's runs only
        if run is None:
            return flow(**parameters)
        unwatched = run.model_copy(update={"deployment_id": None})  # no suspension observer (module docstring)
        return run_flow(flow, flow_run=unwatched, parameters=parameters)
