"""Approval deadlines: a flow run scheduled for the next deadline, never a process polling per document.

When documents start to wait, ``schedule_next_deadline`` asks Prefect for one ``approval-deadlines`` run at
their earliest deadline, unless a run is already scheduled no later than that: at most one run waits. The run
fails closed: every overdue document is escalated (ledgered, the signed policy's ``escalation_command`` called, only
senior reviewers may decide from then on; the approvals core enforces that from the deadline itself, so a late
run cannot let a reviewer slip through), decided documents left unpublished are finished, and the run
schedules the next deadline. Nothing is ever approved by a deadline.
"""

from __future__ import annotations

import logging
import os
import subprocess
from datetime import UTC, datetime, timedelta

from prefect import flow

from approvals.state import ApprovalState
from docval.events import EntryKind, EscalatedPayload
from docval.settings import Settings, load_settings
from flows.approvals.applied import last_signed
from flows.approvals.publish import sweep
from flows.approvals.states import OpenDocument, ledger_of, open_documents
from ledger import EntryDraft, LedgerReader

__all__ = ["DEADLINE_DEPLOYMENT", "approval_deadlines", "escalate_overdue", "schedule_next_deadline"]

log = logging.getLogger(__name__)

DEADLINE_FLOW = "approval-deadlines"
DEADLINE_DEPLOYMENT = f"{DEADLINE_FLOW}/next-deadline"
SENIOR_QUEUE = "senior_reviewer"
GATE = "docval-gate"


@flow(name=DEADLINE_FLOW, persist_result=False, log_prints=False)
def approval_deadlines() -> int:
    """Escalate overdue documents, finish decided ones, schedule the next run; how many were escalated."""
    settings = load_settings()
    escalated = escalate_overdue(settings, datetime.now(UTC))
    sweep(settings)
    schedule_next_deadline(settings)
    return escalated


def escalate_overdue(settings: Settings, now: datetime) -> int:
    command = escalation_command(settings)
    overdue = [
        item for item in open_documents(settings) if _overdue(item.state, now) and _ledger_escalation(settings, item)
    ]
    for item in overdue:
        log.warning("approval deadline missed for doc %s; escalated to %s", item.state.doc[:12], SENIOR_QUEUE)
        if command:
            _notify(command, item.state.doc)
    return len(overdue)


def escalation_command(settings: Settings) -> list[str]:
    """The ``escalation_command`` admins signed; one edited into ``policy.yaml`` unsigned is ignored, loudly.

    Escalation still happens (it fails closed): only who is told comes from the signed policy.
    """
    last = last_signed(settings)  # one read of the root ledger, also when policy.yaml is not the signed one
    if last.problem is not None:
        log.error("%s; escalating with the escalation_command admins signed last", last.problem)
    return last.policy.escalation_command if last.policy is not None else []


def _overdue(state: ApprovalState, now: datetime) -> bool:
    return state.waiting and not state.escalated and state.deadline is not None and state.deadline <= now


def _ledger_escalation(settings: Settings, item: OpenDocument) -> bool:
    """Append ``approval.escalated`` unless a concurrent run already did (checked under the write lock)."""
    state = item.state
    payload = EscalatedPayload(deadline=state.deadline.isoformat(), escalated_to=SENIOR_QUEUE)
    round_entry = "approval.requested"

    def build(reader: LedgerReader) -> list[EntryDraft]:
        entries = reader.entries_for_doc(state.doc)
        last_round = max(entry.seq for entry in entries if entry.kind == round_entry)
        if any(entry.kind == EntryKind.APPROVAL_ESCALATED and entry.seq > last_round for entry in entries):
            return []
        return [EntryDraft(EntryKind.APPROVAL_ESCALATED.value, state.doc, GATE, payload.model_dump(mode="json"))]

    seqs, _ = ledger_of(settings, item.shard).append_with(build)
    return bool(seqs)


def _notify(command: list[str], doc: str) -> None:
    env = {**os.environ, "DOCVAL_DOC": doc, "DOCVAL_EVENT": "approval.escalated", "DOCVAL_QUEUE": SENIOR_QUEUE}
    try:
        subprocess.run(command, env=env, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.error("escalation command failed: %s", type(exc).__name__)


def schedule_next_deadline(settings: Settings, *, now: datetime | None = None) -> datetime | None:
    """One scheduled run at the earliest deadline still ahead of a waiting, unescalated document; its time."""
    now = now or datetime.now(UTC)
    deadlines = [
        item.state.deadline
        for item in open_documents(settings)
        if item.state.waiting and not item.state.escalated and item.state.deadline is not None
    ]
    if not deadlines:
        return None
    at = max(min(deadlines), now).replace(microsecond=0) + timedelta(seconds=1)
    if _scheduled_at_or_before(at):
        return None  # an earlier run will escalate these too and schedule the next one itself
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run_deployment(
            DEADLINE_DEPLOYMENT,
            scheduled_time=at,
            timeout=0,
            as_subflow=False,
            idempotency_key=f"deadlines-{at.isoformat()}",
            tags=["approval"],
        )
    except ObjectNotFound:
        # A worker alone (`docval watch` against a server nobody serves deployments on) cannot schedule it; the
        # documents wait all the same, and `docval up` / `cluster up` schedule the next deadline when they start.
        log.warning("deadline at %s not scheduled: no %s deployment is served yet", at.isoformat(), DEADLINE_DEPLOYMENT)
        return None
    return at


def _scheduled_at_or_before(at: datetime) -> bool:
    """Is a deadline run already scheduled no later than ``at``? Keeps at most one run waiting."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[DEADLINE_FLOW])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            limit=50,
        )
    return any(run.expected_start_time is not None and run.expected_start_time <= at for run in runs)
