"""The processing flow: one Prefect flow run per batch, one task per stage.

Measured on 2 cores a flow run costs ≥ 1 s and a task 4–9 ms, so a batch of
claimed documents is one flow run and each stage is one task over a part of
the batch (up to ``flows.pipeline.PART`` documents: while one part runs its
stages here, the sandbox children already parse the next). Parameters are
document ids; task results are ids; the documents' content stays in this
process (``_BATCHES``) and never reaches Prefect's database or result storage.
Documents that need a person cost no run while they wait: their state is in
the ledger (flows/approvals/).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from prefect import Task, flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from docval.domain import DocState
from docval.settings import Settings, load_settings
from docval.shards import root_settings, shard_name_of, shard_settings
from docval.store import DocumentStore
from flows.approvals.applied import signed_policy
from flows.audit import Audit
from flows.pipeline import STAGES, Context, DocWork, load_batch, run_in_parts, settle
from flows.toolkit import Toolkit

__all__ = [
    "BATCH_DEPLOYMENT",
    "build_context",
    "context_for",
    "process_batch",
    "process_claimed",
    "publish_batch_kpis",
    "worker_context",
]

log = logging.getLogger(__name__)

_BATCHES: dict[str, tuple[Context, list[DocWork]]] = {}
BATCH_DEPLOYMENT = "process-batch/batch"


@functools.cache
def worker_context() -> Context:
    """Built once per process: settings, ledger, store, policy (validated at start), models."""
    return build_context(load_settings(), start_children=True)


def context_for(shard: str | None) -> Context:
    """This process's context, or the one writing ledger shard ``shard`` (a run finishing a dead run's documents).

    Another shard differs only in its ledger settings: the models, the store and the policy are this process's
    (built once per process); only the settings and the ledger handle are new, both cheap.
    """
    ctx = worker_context()
    if shard is None or shard == shard_name_of(ctx.settings):
        return ctx
    settings = shard_settings(root_settings(ctx.settings), shard)
    return dataclasses.replace(ctx, settings=settings, audit=Audit(settings))


def build_context(settings: Settings, *, start_children: bool = False) -> Context:
    """``start_children``: start the sandbox's reading children while the models load (a worker's context)."""
    settings.ensure_dirs()
    store = DocumentStore(settings.store_db, lock_timeout=settings.ledger.lock_timeout_seconds)
    version, policy = signed_policy(settings)  # refuses a policy.yaml admins did not sign
    return Context(
        settings=settings,
        audit=Audit(settings),
        store=store,
        policy=policy,
        kit=Toolkit.from_settings(settings, start_children=start_children),
        policy_version=version,
    )


def _stage_task(stage: Callable[[Context, list[DocWork]], None]) -> Task[[str], list[str]]:
    """One Prefect task per pipeline stage; its input and result are ids only."""

    @task(name=stage.__name__, persist_result=False, cache_policy=NO_CACHE, log_prints=False)
    def run(batch_key: str) -> list[str]:
        ctx, batch = _BATCHES[batch_key]
        stage(ctx, batch)
        return [work.doc for work in batch if work.state is None]

    return run


STAGE_TASKS = tuple(_stage_task(stage) for stage in STAGES)


def batch_run_name() -> str:
    """``batch-2026-12-04T20:31-16-docs``: when and how much, for the person scanning the runs list (UTC)."""
    from prefect.runtime import flow_run

    count = len(flow_run.parameters.get("doc_ids") or [])
    return f"batch-{datetime.now(UTC):%Y-%m-%dT%H:%M}-{count}-docs"


def publish_batch_view(settings: Settings, docs: list[str], states: dict[str, str]) -> None:
    """The batch run's artifacts: its KPI table (from the ledger) and where its waiting documents are decided.

    A view, not the work: the documents are recorded already, so a failure here is logged, never raised.
    """
    waiting = sum(state == DocState.AWAITING_APPROVAL.value for state in states.values())
    url = settings.workbench.public_origin
    try:
        publish_batch_kpis(settings, docs)
        create_markdown_artifact(
            key="docval-batch-review",
            markdown=f"{waiting} of {len(docs)} documents wait for a person: [open the reviewer workbench]({url})",
            description="reviewer workbench",
        )
    except Exception as exc:  # the Prefect API or the ledger read failing must not fail the batch
        log.error("batch artifacts not published (%s); the documents are recorded", type(exc).__name__)


def publish_batch_kpis(settings: Settings, docs: list[str], *, key: str = "docval-batch-kpis") -> None:
    """Publish a batch's KPIs as a table and a markdown artifact; call it at the end of a batch flow run.

    Reads the batch's documents' entries from the ledger (ids in, figures out), so it shows what was
    recorded rather than what the flow believes happened. Only the KPI and lineage modules of reports/ are
    imported: the report flow's module pulls in charts and the workbench (~0.7 s a ``docval process`` paid).
    """
    from ledger import Ledger
    from reports import compute_kpis, fold_entries, kpi_rows

    facts = fold_entries(Ledger.open(settings).entries_for_docs(docs))
    lineages = [facts.docs[doc] for doc in docs if doc in facts.docs]
    rows = kpi_rows(compute_kpis(lineages, facts.events, facts.events))
    create_table_artifact(key=key, table=rows, description=f"KPIs of a batch of {len(docs)} documents")
    table = "\n".join(f"| {row['figure']} | {row['value']} |" for row in rows)
    create_markdown_artifact(key=f"{key}-summary", markdown=f"| figure | value |\n| --- | --- |\n{table}\n",
                             description="batch KPIs")  # fmt: skip


@flow(name="process-batch", persist_result=False, log_prints=False, flow_run_name=batch_run_name)
def process_batch(doc_ids: list[str], resumed: bool = False, shard: str | None = None) -> dict[str, str]:
    """Run claimed documents (ids = SHA-256 of their bytes) through every stage; id -> state.

    ``shard`` names the ledger shard holding the documents' history when it is not this worker's own.
    """
    ctx = context_for(shard)
    batch = load_batch(ctx, doc_ids, resumed=resumed)

    def run_part(part: list[DocWork]) -> None:
        key = uuid.uuid4().hex
        _BATCHES[key] = (ctx, part)
        try:
            for stage_task in STAGE_TASKS:
                stage_task(key)
        finally:
            _BATCHES.pop(key, None)

    with ctx.audit.session():  # the stages' entries and the batch's signature on one ledger connection
        run_in_parts(ctx, batch, run_part)
        states = settle(ctx, batch)
    unexpected = [work.doc for work in batch if work.unexpected]
    if unexpected:
        log.error("batch had %d unexpected errors (quarantined as INTERNAL_ERROR)", len(unexpected))
    publish_batch_view(ctx.settings, doc_ids, states)
    return states


def process_claimed(doc_ids: list[str], resumed: bool) -> dict[str, str]:
    """The watcher's batch, run in this process as a run of ``process-batch/batch`` (flows/inprocess.py).

    Measured: about 0.3 s more per batch than a direct call (``benchmarks/attribution_bench.py``).
    """
    from flows.inprocess import run_here

    return run_here(process_batch, BATCH_DEPLOYMENT, {"doc_ids": doc_ids, "resumed": resumed, "shard": None})
