"""Approval runs on the Prefect server: create one per waiting document, find it, resume it.

A waiting document must have exactly one live ``await-approval`` run. Runs
are named ``approve-<doc prefix>`` so they can be found without parsing
parameters. When the appliance starts, no previous process is alive, so a run
still shown as paused or running is an orphan: it is cancelled and replaced
(its state lives in the ledger, so the new run continues where it stopped).
"""

from __future__ import annotations

import logging
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import resume_flow_run
from prefect.states import Cancelled

from docval.domain import DocState
from docval.settings import Settings
from flows.approval import APPROVAL_FLOW
from flows.errors import FlowError

__all__ = [
    "APPROVAL_DEPLOYMENT",
    "ensure_approval_runs",
    "paused_run",
    "replace_orphaned_runs",
    "resume_with_token",
    "run_name",
]

log = logging.getLogger(__name__)

APPROVAL_DEPLOYMENT = f"{APPROVAL_FLOW}/approval"
_LIVE = {StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED}
_ORPHANED = {StateType.RUNNING, StateType.PAUSED, StateType.PENDING}
AWAITING = DocState.AWAITING_APPROVAL
_QUERY_DOCS = 50  # documents per runs query: 4 runs each at most fits the server's page of 200


def run_name(doc: str) -> str:
    return f"approve-{doc[:16]}"


def _runs_by_doc(docs: list[str]) -> dict[str, list[FlowRun]]:
    names = {run_name(doc): doc for doc in docs}
    found: dict[str, list[FlowRun]] = {doc: [] for doc in docs}
    runs: list[FlowRun] = []
    with get_client(sync_client=True) as client:
        for offset in range(0, len(names), _QUERY_DOCS):  # the server refuses a limit above 200
            part = list(names)[offset : offset + _QUERY_DOCS]
            runs += client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=part)), limit=200)
    for run in runs:
        doc = names.get(run.name)
        if doc is not None and run.parameters.get("doc_id") == doc:
            found[doc].append(run)
    return found


def ensure_approval_runs(docs: list[str], *, shard: str | None = None, previous_processes_dead: bool = False) -> int:
    """Give each document one live approval run; returns how many were created.

    ``shard``: the ledger shard holding the documents' history (a cluster worker's), passed on to the run.
    ``previous_processes_dead`` (appliance start): paused/running runs are orphans; cancel and replace them.
    Without a served approval deployment the documents simply wait (``docval up`` creates the runs).
    """
    created = 0
    for doc, runs in _runs_by_doc(docs).items():
        live = [run for run in runs if run.state_type in _LIVE]
        if previous_processes_dead:
            for run in [run for run in live if run.state_type in _ORPHANED]:
                _cancel(run.id)
                live.remove(run)
        if live:
            continue
        try:
            run_deployment(
                APPROVAL_DEPLOYMENT,
                parameters={"doc_id": doc, "shard": shard},
                flow_run_name=run_name(doc),
                timeout=0,
                as_subflow=False,
                idempotency_key=f"approval-{doc}-{len(runs)}",
                tags=["approval"],
            )
        except ObjectNotFound:
            log.warning(
                "no served %s deployment: %d documents wait for `docval up` or `docval cluster up`",
                APPROVAL_DEPLOYMENT,
                len(docs),
            )
            return created
        created += 1
    return created


def replace_orphaned_runs(settings: Settings) -> int:
    """At start-up: one fresh approval run per waiting document, each told the shard its history is in."""
    from docval.store import DocumentStore
    from flows.audit import Ledgers

    waiting = [record.doc for record in DocumentStore(settings.store_db).all() if record.state == AWAITING]
    homes = Ledgers(settings).homes(waiting)
    by_shard: dict[str | None, list[str]] = {}
    for doc in waiting:
        by_shard.setdefault(homes.get(doc), []).append(doc)
    return sum(
        ensure_approval_runs(docs, shard=shard, previous_processes_dead=True) for shard, docs in by_shard.items()
    )


def _cancel(run_id: UUID) -> None:
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Cancelled(message="orphaned by a restart; replaced"), force=True)


def paused_run(doc: str) -> FlowRun | None:
    runs = _runs_by_doc([doc])[doc]
    return next((run for run in runs if run.state_type == StateType.PAUSED), None)


def resume_with_token(doc: str, token: str) -> UUID:
    """Hand a decision token to the document's paused run; the run verifies it (nothing is trusted here)."""
    run = paused_run(doc)
    if run is None:
        raise FlowError(f"document {doc[:12]} has no paused approval run (is `docval up` running?)")
    resume_flow_run(run.id, run_input={"decision_token": token})
    return run.id
