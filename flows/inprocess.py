"""Runs of a served deployment executed in this process, so the Prefect UI shows the work under its deployment.

``prefect.serve`` starts each run it picks up in a child process: an interpreter start and the imports of
flows/, about 2 s on 2 cores, before any work. Work the appliance process starts itself (the watcher's
batches, the workbench's publishing, a decision ``docval approve`` hands over) is created from the deployment
in state Pending, which the serving process never picks up (it takes Scheduled runs only), and is run here,
where models and connections are warm. Without the deployment (``docval process``, ``docval review``, a test)
the flow is called directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import Flow

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

__all__ = ["pending_run", "run_created", "run_here"]


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

    return flow(**parameters) if run is None else run_flow(flow, flow_run=run, parameters=parameters)
