"""The life of a batch of claimed documents, as plain Python stages (no Prefect here).

Each stage walks the documents still in play, does one step per document and
appends that step's ledger entries for the whole batch in one transaction.
flows/batch.py wraps each stage in one Prefect task, so orchestration costs a
few tasks per batch, not per document or page.

Exactly once: a document's id is its content hash and the ledger is the
record of what happened. A document resumed after a crash (``history`` not
empty) is recomputed, but a step already in the ledger is not written again,
and a decision already in the ledger is reused, never taken a second time.
Final states are written in the order outbox file → ledger entry → store →
file move, and every one of those is idempotent, so a kill between any two of
them is finished by the next run.

What every stage shares (the batch's in-memory state, running one step over it, retries and quarantine)
is in flows/stage.py; the outbox record a final state writes is in flows/outbox.py.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import wait
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel

from approvals.policy_input import DecisionInput, decision_amount, decision_input
from approvals.statement import fields_digest
from docval.domain import DocState, DocumentResult, Outcome
from docval.events import (
    ApprovalRequestedPayload,
    ClaimedPayload,
    DecidedPayload,
    DuplicatePayload,
    EntryKind,
    FinalPayload,
)
from docval.settings import Settings
from flows.audit import Draft
from flows.claim import Claimed, atomic_write, claimed_again, release, work_pdf
from flows.makers import UNKNOWN_MAKER, FileFacts, enrolled_people, maker_of, person_of
from flows.outbox import document_result, write_results
from flows.policy import PolicyDecision
from flows.stage import (
    FINAL_KINDS,
    WORKER,
    Context,
    DocWork,
    active,
    infrastructure,
    quarantine,
    retry,
    run_step,
)
from flows.toolkit import Ingested

__all__ = [
    "FINAL_KINDS",
    "STAGES",
    "WORKER",
    "Context",
    "DocWork",
    "load_batch",
    "record_claims",
    "run_in_parts",
    "run_stages",
    "settle",
    "told_when_settled",
]

log = logging.getLogger(__name__)


def record_claims(ctx: Context, claims: list[Claimed], *, duplicates: list[Claimed]) -> None:
    """Store rows and ``doc.claimed``/``doc.duplicate`` entries for freshly claimed files (one transaction).

    Each entry's actor is the file's maker (``flows.makers``): the person the not-the-maker rule refuses.
    """
    drafts = []
    sources = [ctx.kit.hasher(claimed.source, purpose="source") for claimed in claims]  # keyed: no name in clear
    ctx.store.claim_many([(claimed.doc, source) for claimed, source in zip(claims, sources, strict=True)])
    enrolled = enrolled_people(ctx.settings) if claims or duplicates else frozenset()

    def maker(claimed: Claimed) -> str:
        facts = FileFacts(folder=claimed.folder, owner=claimed.owner)
        return maker_of(facts, enrolled=enrolled, os_makers=ctx.policy.os_makers)

    for claimed, source in zip(claims, sources, strict=True):
        drafts.append(
            Draft(EntryKind.CLAIMED, claimed.doc, maker(claimed), ClaimedPayload(source_hash=source, size=claimed.size))
        )
    drafts += [
        Draft(EntryKind.DUPLICATE, dup.doc, maker(dup), DuplicatePayload(of_doc=dup.doc, reason="same_bytes"))
        for dup in duplicates
    ]
    retry(lambda: ctx.audit.record(drafts))


def load_batch(ctx: Context, docs: list[str], *, resumed: bool) -> list[DocWork]:
    """In-memory work items; ``resumed`` reads each document's ledger history (after a crash or restart)."""
    from flows.claim import source_name

    batch = []
    histories = ctx.audit.histories(docs) if resumed else {}
    for doc in docs:
        work = DocWork(doc=doc, source=source_name(ctx.settings.work_dir, doc))
        if resumed:
            work.history = histories[doc]
            if not work.recorded(EntryKind.CLAIMED):  # killed between the rename and the claim entry
                record_claims(ctx, [claimed_again(ctx.settings.work_dir, doc)], duplicates=[])
                work.history = ctx.audit.history(doc)
            work.seqs = [entry.seq for entry in work.history if entry.kind not in FINAL_KINDS]
        batch.append(work)
    return batch


def parse(ctx: Context, work: DocWork) -> tuple[Ingested, BaseModel]:
    """``work``'s file parsed in a sandbox child (and, with no endpoint tier, extracted there too)."""
    return ctx.kit.ingest(work_pdf(ctx.settings.work_dir, work.doc))


@contextmanager
def parsing_ahead(ctx: Context, batch: list[DocWork]) -> Iterator[None]:
    """Parse every active document of ``batch`` from now on, two at a time, whatever stage runs meanwhile.

    The flow runs a big batch in parts (flows/batch.py): while this process validates, masks and finishes one
    part, the children already parse the next, so the worker's serial work and the children's parsing overlap
    instead of taking turns. Each document's parse is a future on its ``DocWork``, taken from the toolkit's
    parses (``flows.ahead``: the worker started the first ones as it claimed them); ``ingest`` takes it. Leaving
    the block cancels the batch's parses not started yet and waits for those running (the batch failed).
    """
    for work in active(batch):
        if work.parsing is None:
            path = work_pdf(ctx.settings.work_dir, work.doc)
            work.parsing = ctx.kit.parses.take(path) or ctx.kit.parses.submit(path)
    try:
        yield
    finally:
        left = [work.parsing for work in batch if work.parsing is not None]
        wait([future for future in left if not future.cancel()])


def ingest(ctx: Context, batch: list[DocWork]) -> None:
    """Ledger each document's parse, in batch order; parses not started ahead start here, two at a time."""

    def step(work: DocWork) -> BaseModel:
        future, work.parsing = work.parsing, None  # a retry after a transient failure parses again, on its own
        work.pdf, payload = future.result() if future is not None else parse(ctx, work)
        _analyse_ahead(ctx, work)
        return payload

    with parsing_ahead(ctx, batch):
        run_step(ctx, batch, "ingest", EntryKind.INGESTED, step)


def _analyse_ahead(ctx: Context, work: DocWork) -> None:
    """The PII analyses of ``work``'s mask and finish steps, made while the children parse (``Toolkit.analyse_ahead``).

    Only a head start: a failure here is met again, in its place, by the step that needs the analysis.
    """
    try:
        ctx.kit.analyse_ahead(work.pdf, work.source)
    except Exception as exc:
        log.debug("analysing doc %s ahead failed (%s); its steps analyse it", work.doc[:12], type(exc).__name__)


def extract(ctx: Context, batch: list[DocWork]) -> None:
    def step(work: DocWork) -> BaseModel:
        work.extraction, payload = ctx.kit.extract(work.pdf)
        work.pdf = None  # pages are not needed any more; free them early on big batches
        return payload

    run_step(ctx, batch, "extract", EntryKind.EXTRACTED, step)


def validate(ctx: Context, batch: list[DocWork]) -> None:
    """Each document's findings; the part's invoices are keyed for duplicates, and looked up, all at once first."""
    extractions = {work.doc: work.extraction for work in active(batch) if work.extraction is not None}
    with ctx.store.session() as store:
        duplicates = ctx.kit.duplicates(extractions, store)

    def step(work: DocWork) -> BaseModel:
        work.findings, payload = ctx.kit.validate(work.extraction, duplicates.get(work.doc, []))
        return payload

    run_step(ctx, batch, "validate", EntryKind.VALIDATED, step)


def mask(ctx: Context, batch: list[DocWork]) -> None:
    """Pseudonymise the fields; the originals reach the vault in one commit for the part, before the ledger."""

    def step(work: DocWork) -> BaseModel:
        work.fields, payload = ctx.kit.mask(work.extraction, work.doc)
        return payload

    run_step(ctx, batch, "mask", EntryKind.MASKED, step, within=ctx.kit.one_vault_commit)


def decide(ctx: Context, batch: list[DocWork]) -> None:
    """Apply the policy, or reuse the decision a previous run already recorded (never decide twice)."""

    def step(work: DocWork) -> BaseModel:
        previous = work.recorded(EntryKind.DECIDED)
        if previous is not None:
            work.decision = _decision_from(DecidedPayload.model_validate(previous.data))
        else:
            work.decision = ctx.policy.decide(_facts(work), now=ctx.now())
        work.state = _STATE_OF[work.decision.outcome]
        return DecidedPayload(
            outcome=work.decision.outcome,
            rule=work.decision.rule,
            approvals_required=work.decision.approvals_required,
            amount=str(_amount(work)) if _amount(work) is not None else None,
            deadline=work.decision.deadline.isoformat() if work.decision.deadline else None,
            policy=ctx.policy_version,
        )

    run_step(ctx, batch, "decide", EntryKind.DECIDED, step)


_STATE_OF = {
    Outcome.AUTO_APPROVE: DocState.PUBLISHED,
    Outcome.REJECT: DocState.REJECTED,
    Outcome.NEEDS_APPROVAL: DocState.AWAITING_APPROVAL,
}


def _decision_from(payload: DecidedPayload) -> PolicyDecision:
    return PolicyDecision(
        outcome=payload.outcome,
        rule=payload.rule,
        approvals_required=payload.approvals_required,
        deadline=datetime.fromisoformat(payload.deadline) if payload.deadline else None,
    )


def _amount(work: DocWork) -> Decimal | None:
    return decision_amount(work.extraction.fields) if work.extraction is not None else None


def _facts(work: DocWork) -> DecisionInput:
    return decision_input(work.kind, work.extraction.fields, (finding.code for finding in work.findings))


def finish(ctx: Context, batch: list[DocWork]) -> None:
    """Outbox file, final ledger entry, store state, file move: for every document that reached a state."""
    done = [work for work in batch if work.state is not None]
    makers = ctx.audit.makers([work.doc for work in done])
    for work in done:
        work.maker = person_of(makers.get(work.doc, UNKNOWN_MAKER))
    owners = [work for work in done if not any(work.recorded(kind) for kind in FINAL_KINDS)]  # others: store, move
    with ctx.kit.one_vault_commit():  # the names' pseudonyms, committed before any record shows them
        results = [_own_result(ctx, work) for work in owners]
    digests = write_results(ctx.settings, results)
    drafts = [
        Draft(_FINAL_KIND[work.state], work.doc, WORKER, _final_payload(work, digest))
        for work, digest in zip(owners, digests, strict=True)
    ]
    for work, seq in zip(owners, retry(lambda: ctx.audit.record(drafts)), strict=True):
        work.seqs.append(seq)
    ctx.store.update_states([(work.doc, work.state, work.kind) for work in done])
    for work in done:
        release(ctx.settings.work_dir, work.doc, _destination(ctx.settings, work))
        if work.quarantine is not None:
            reason = work.quarantine.model_dump(mode="json") | {"doc": work.doc, "source": work.label or work.doc}
            atomic_write(ctx.settings.quarantine_dir / f"{work.doc}.reason.json", json.dumps(reason).encode())


def _own_result(ctx: Context, work: DocWork) -> DocumentResult:
    """Mask the name and build the outbox record; a document whose record fails is quarantined, not its batch."""
    try:
        work.label = ctx.kit.mask_source(work.source, work.doc)
        return document_result(work)
    except Exception as exc:
        if infrastructure(exc):
            raise
        log.exception("finishing doc %s failed (%s)", work.doc[:12], type(exc).__name__)
        work.unexpected, work.label = True, f"{work.doc}.pdf"  # the id: nothing of the name can leak
        quarantine(work, "INTERNAL_ERROR", "finish", type(exc).__name__)
        return document_result(work)


_FINAL_KIND = {
    DocState.PUBLISHED: EntryKind.PUBLISHED,
    DocState.REJECTED: EntryKind.REJECTED,
    DocState.QUARANTINED: EntryKind.QUARANTINED,
    DocState.AWAITING_APPROVAL: EntryKind.APPROVAL_REQUESTED,
}


def _final_payload(work: DocWork, digest: str) -> BaseModel:
    if work.state is DocState.QUARANTINED:
        return work.quarantine
    if work.state is DocState.AWAITING_APPROVAL:
        return ApprovalRequestedPayload(
            approvals_required=work.decision.approvals_required,
            deadline=work.decision.deadline.isoformat(),
            queue="reviewer",
            result_sha256=digest,
            round=secrets.token_hex(16),
            # as the outbox shows them
            fields_sha256=fields_digest(json.loads(document_result(work).to_json())["fields"]),
        )
    return FinalPayload(state=work.state, result_sha256=digest)


def _destination(settings: Settings, work: DocWork) -> Path:
    if work.state is DocState.QUARANTINED:
        return settings.quarantine_dir / f"{work.doc}.pdf"
    if work.state is DocState.AWAITING_APPROVAL:
        return settings.awaiting_pdf(work.doc)
    return settings.archive_dir / f"{work.doc}.pdf"


STAGES: tuple[Callable[[Context, list[DocWork]], None], ...] = (ingest, extract, validate, mask, decide, finish)


# Documents per part of a batch. Each stage runs once per part (one ledger transaction, and one Prefect task in
# the flow), while parsing runs ahead over the whole batch, so the worker's stages over one part overlap the
# children's parsing of the next; the last part's stages are what does not overlap (benchmarks/README.md).
PART = 64


def run_in_parts(ctx: Context, batch: list[DocWork], run_part: Callable[[list[DocWork]], None]) -> None:
    """``run_part`` (every stage, in order) over ``batch`` ``PART`` documents at a time, parsing ahead throughout."""
    with parsing_ahead(ctx, batch):
        for start in range(0, len(batch), PART):
            with ctx.kit.remembering_analyses():  # what ingest analysed ahead, mask and finish find done
                run_part(batch[start : start + PART])


# Who is told each batch's states once they are final and signed (``told_when_settled``): ``docval process --wait``
# beside the appliance, through its worker's intake.
_SETTLED: list[Callable[[dict[str, str]], None]] = []


@contextmanager
def told_when_settled(listener: Callable[[dict[str, str]], None]) -> Iterator[None]:
    """``listener(states)`` (id -> state) for every batch this process settles in the block (``settle``)."""
    _SETTLED.append(listener)
    try:
        yield
    finally:
        _SETTLED.remove(listener)


def settle(ctx: Context, batch: list[DocWork]) -> dict[str, str]:
    """Each document's state, once every stage has run: the final entries are signed, then the listeners told.

    A batch run still publishes its view after this (KPI artifacts from the ledger, ~0.1 s) and Prefect closes it;
    whoever waits for the documents needs neither, only their final entries, written and signed.
    """
    states = {work.doc: (work.state or DocState.QUARANTINED).value for work in batch}
    ctx.audit.checkpoint()
    for listener in list(_SETTLED):
        listener(states)
    return states


def run_stages(ctx: Context, batch: list[DocWork]) -> list[DocWork]:
    """All stages in order, as plain calls: the baseline the benchmark compares the Prefect flow against."""

    def run_part(part: list[DocWork]) -> None:
        for stage in STAGES:
            stage(ctx, part)

    run_in_parts(ctx, batch, run_part)
    return batch
