"""The approval gate as a pausable Prefect flow: one run per document that needs people.

The run pauses with a one-field form (a decision token). Each resume is
checked by ``flows.gate.check_attempt``; a refused attempt is ledgered as
``approval.refused`` and the run pauses again, so an unsigned or forged resume
from the UI or the REST API changes nothing. Prefect's own pause timeout would fail
the run with no record (its server fails expired pauses), so it is set far
away and the run wakes itself at the approval deadline instead: the deadline
fails closed and escalates (ledger entry, notification hook, senior queue),
and the run keeps waiting for a senior reviewer. It never approves by itself.

All state is derived from the ledger each time round the loop, so a run that
is restarted (appliance restarted while paused) continues where it was.

In a cluster the document's history is in the shard of the worker that
claimed it (``shard``), while the run itself executes in the served-deployments
process, never on a processing worker whose single slot it would hold for days.
The run reads and extends that shard, and signs a checkpoint after every entry
it writes, so the anchor can fold a decision into the root without waiting for
the shard's worker to write again.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import flow
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run as flow_run_context
from pydantic import Field

from docval.domain import Approver, Decision, DocState, DocumentResult, LedgerSpan, Outcome
from docval.events import (
    ApprovalPayload,
    ApprovalRequestedPayload,
    EntryKind,
    EscalatedPayload,
    FinalPayload,
)
from docval.settings import Settings, load_settings
from docval.shards import root_settings, shard_settings
from docval.store import DocumentStore
from flows.audit import Audit, Draft, HistoryEntry
from flows.claim import release
from flows.gate import ApprovalRequest, Verdict, check_attempt
from flows.pipeline import awaiting_pdf, outbox_path, write_result
from flows.policy import Policy, load_policy
from flows.roles import Role, RolesFile, load_roles

__all__ = ["APPROVAL_FLOW", "DecisionForm", "GateState", "await_approval", "gate_state"]

log = logging.getLogger(__name__)

APPROVAL_FLOW = "await-approval"
SENIOR_QUEUE = Role.SENIOR_REVIEWER.value
RESUME_POLL_SECONDS = 2
PAUSE_TIMEOUT_SECONDS = 366 * 86400  # never reached in practice; deadlines are handled by _wake_at
DEADLINE_WAKE = "deadline"


class DecisionForm(RunInput):
    """The Prefect UI's resume form: only a signed token counts, names typed into a form do not."""

    decision_token: str = Field(description="Output of: docval approve DOC --as USER --token (or docval reject)")


@dataclass(frozen=True)
class GateState:
    request: ApprovalRequest
    deadline: datetime
    escalated: bool
    approvers: list[Approver]
    rejected_by: Approver | None
    final: DocState | None
    span: list[int]


def gate_state(doc: str, history: list[HistoryEntry]) -> GateState:
    """Everything the gate needs, recomputed from the document's ledger entries."""
    by_kind: dict[str, list[HistoryEntry]] = {}
    for entry in history:
        by_kind.setdefault(entry.kind, []).append(entry)
    requested = ApprovalRequestedPayload.model_validate(by_kind[EntryKind.APPROVAL_REQUESTED][-1].data)
    maker = by_kind[EntryKind.CLAIMED][0].actor
    grants = [ApprovalPayload.model_validate(entry.data) for entry in by_kind.get(EntryKind.APPROVAL_GRANTED, [])]
    escalated = EntryKind.APPROVAL_ESCALATED in by_kind
    final = next(
        (state for kind, state in _FINAL.items() if kind in by_kind),
        None,
    )
    return GateState(
        request=ApprovalRequest(
            doc=doc, maker=maker, approvals_required=requested.approvals_required, senior_only=escalated
        ),
        deadline=datetime.fromisoformat(requested.deadline),
        escalated=escalated,
        approvers=[Approver(user=grant.user, role=grant.role) for grant in grants if grant.decision == "approve"],
        rejected_by=next((Approver(user=g.user, role=g.role) for g in grants if g.decision == "reject"), None),
        final=final,
        span=[entry.seq for entry in history if entry.kind not in _FINAL],
    )


_FINAL = {EntryKind.PUBLISHED: DocState.PUBLISHED, EntryKind.REJECTED: DocState.REJECTED}


@dataclass
class GateContext:
    settings: Settings
    audit: Audit
    store: DocumentStore
    roles: RolesFile
    policy: Policy


@functools.cache
def gate_context(shard: str | None = None) -> GateContext:
    """Light on purpose (no models): a waiting approval run should cost little memory."""
    settings = load_settings()
    if shard is not None:
        settings = shard_settings(root_settings(settings), shard)
    return GateContext(
        settings=settings,
        audit=Audit(settings),
        store=DocumentStore(settings.store_db, lock_timeout=settings.ledger.lock_timeout_seconds),
        roles=load_roles(settings.resolve(settings.flows.roles_file)),
        policy=load_policy(settings.resolve(settings.flows.policy_file)),
    )


@flow(name=APPROVAL_FLOW, persist_result=False, log_prints=False)
def await_approval(doc_id: str, shard: str | None = None) -> str:
    """Wait for signed decisions on one document until it is published or rejected; returns the state.

    ``shard``: the ledger shard holding the document's history (None: this installation's own ledger).
    """
    ctx = gate_context(shard)
    while True:
        state = gate_state(doc_id, ctx.audit.history(doc_id))
        if state.final or state.rejected_by or len(state.approvers) >= state.request.approvals_required:
            return _finish(ctx, doc_id, state).value
        if not state.escalated and datetime.now(UTC) >= state.deadline:
            _escalate(ctx, doc_id, state)
            continue
        with _wake_at(None if state.escalated else state.deadline):
            form = pause_flow_run(
                wait_for_input=DecisionForm.with_initial_data(description=_describe(doc_id, state)),
                timeout=PAUSE_TIMEOUT_SECONDS,
                poll_interval=RESUME_POLL_SECONDS,
            )
        if form.decision_token == DEADLINE_WAKE and datetime.now(UTC) >= state.deadline:
            continue  # our own wake-up call: the loop escalates
        verdict = check_attempt(
            form.decision_token,
            state.request,
            ctx.roles,
            prior_approvers={approver.user for approver in state.approvers},
            now=datetime.now(UTC),
        )
        _record(ctx, _approval_draft(doc_id, verdict))
        log.info("approval attempt on doc %s: %s", doc_id[:12], verdict.refused_because or "accepted")


@contextmanager
def _wake_at(deadline: datetime | None) -> Iterator[None]:
    """Resume our own paused run at the deadline, so the flow (not Prefect) handles it.

    Prefect's server fails runs whose pause timed out; a failed run could not escalate or record
    anything. So the pause timeout is far away and a timer thread wakes the run at the deadline.
    """
    if deadline is None:
        yield
        return
    run_id = flow_run_context.id
    cancelled = threading.Event()

    def wake() -> None:
        from prefect.exceptions import NotPausedError

        while not cancelled.is_set():
            try:
                resume_flow_run(run_id, run_input={"decision_token": DEADLINE_WAKE})
                return
            except NotPausedError:
                cancelled.wait(0.5)  # not paused yet (or just resumed by someone): try again

    delay = max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.2
    timer = threading.Timer(delay, wake)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        cancelled.set()
        timer.cancel()


def _record(ctx: GateContext, draft: Draft) -> None:
    """Append and sign at once: a decision is provable (and can be anchored) the moment it is made."""
    ctx.audit.record([draft])
    ctx.audit.checkpoint()


def _describe(doc: str, state: GateState) -> str:
    queue = SENIOR_QUEUE if state.escalated else "reviewer"
    return (
        f"Document {doc[:12]} needs {state.request.approvals_required - len(state.approvers)} more approval(s) "
        f"from the {queue} queue; deadline {state.deadline.isoformat()}. Paste a decision token from "
        f"`docval approve {doc[:12]} --as USER --token`."
    )


def _approval_draft(doc: str, verdict: Verdict) -> Draft:
    statement = verdict.decision.statement if verdict.decision else None
    payload = ApprovalPayload(
        user=statement.user if statement else "",
        role=verdict.role.value if verdict.role else "",
        decision=statement.decision if statement else "",
        signed_at=statement.signed_at.isoformat() if statement else "",
        signature=verdict.decision.signature if verdict.decision else "",
        key_id=verdict.decision.key_id if verdict.decision else "",
        reason_hash=statement.reason_hash if statement else None,
        refused_because=verdict.refused_because,
    )
    kind = EntryKind.APPROVAL_GRANTED if verdict.accepted else EntryKind.APPROVAL_REFUSED
    actor = statement.user if statement and verdict.accepted else "unverified"
    return Draft(kind, doc, actor, payload)


def _escalate(ctx: GateContext, doc: str, state: GateState) -> None:
    """Deadline missed: record it, tell someone, and only senior reviewers may decide from now on."""
    payload = EscalatedPayload(deadline=state.deadline.isoformat(), escalated_to=SENIOR_QUEUE)
    _record(ctx, Draft(EntryKind.APPROVAL_ESCALATED, doc, "docval-gate", payload))
    log.warning("approval deadline missed for doc %s; escalated to %s", doc[:12], SENIOR_QUEUE)
    if ctx.policy.escalation_command:
        env = {**os.environ, "DOCVAL_DOC": doc, "DOCVAL_EVENT": "approval.escalated", "DOCVAL_QUEUE": SENIOR_QUEUE}
        try:
            subprocess.run(ctx.policy.escalation_command, env=env, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("escalation command failed: %s", type(exc).__name__)


def _finish(ctx: GateContext, doc: str, state: GateState) -> DocState:
    """Publish or reject: outbox, final ledger entry, store, archive. Each step is idempotent."""
    final = state.final or (DocState.REJECTED if state.rejected_by else DocState.PUBLISHED)
    if state.final is None:
        previous = DocumentResult.model_validate_json(outbox_path(ctx.settings, doc).read_text(encoding="utf-8"))
        approvers = [*state.approvers, *([state.rejected_by] if state.rejected_by else [])]
        result = previous.model_copy(
            update={
                "state": final,
                "decision": Decision(outcome=Outcome.NEEDS_APPROVAL, approvers=approvers),
                "ledger": LedgerSpan(first_seq=min(state.span), last_seq=max(state.span)),
            }
        )
        digest = write_result(ctx.settings, result)
        kind = EntryKind.REJECTED if final is DocState.REJECTED else EntryKind.PUBLISHED
        _record(ctx, Draft(kind, doc, "docval-gate", FinalPayload(state=final, result_sha256=digest)))
    ctx.store.update(doc, state=final)
    release(ctx.settings.work_dir, doc, ctx.settings.archive_dir / f"{doc}.pdf")  # sidecar, if any
    source = awaiting_pdf(ctx.settings, doc)
    if source.exists():
        os.replace(source, ctx.settings.archive_dir / f"{doc}.pdf")
    return final
