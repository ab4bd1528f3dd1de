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
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from approvals.policy_input import DecisionInput, decision_amount, decision_input
from approvals.statement import fields_digest
from docval.domain import (
    Cost,
    Decision,
    DocKind,
    DocState,
    DocumentResult,
    ExtractedField,
    Finding,
    LedgerSpan,
    Outcome,
)
from docval.errors import StoreBusyError
from docval.events import (
    ApprovalRequestedPayload,
    ClaimedPayload,
    DecidedPayload,
    DuplicatePayload,
    EntryKind,
    FinalPayload,
    QuarantinedPayload,
)
from docval.settings import Settings
from docval.store import DocumentStore
from flows.audit import Audit, Draft, HistoryEntry
from flows.claim import Claimed, atomic_write, claimed_again, release, work_pdf
from flows.makers import UNKNOWN_MAKER, FileFacts, enrolled_people, maker_of, person_of
from flows.policy import Policy, PolicyDecision
from flows.toolkit import IngestFailure, Toolkit

__all__ = [
    "STAGES",
    "WORKER",
    "Context",
    "DocWork",
    "load_batch",
    "outbox_path",
    "record_claims",
    "run_stages",
    "write_result",
]

log = logging.getLogger(__name__)

WORKER = "docval-worker"
FINAL_KINDS = {EntryKind.PUBLISHED, EntryKind.REJECTED, EntryKind.QUARANTINED, EntryKind.APPROVAL_REQUESTED}
TRANSIENT = (StoreBusyError, TimeoutError, ConnectionError)
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


@dataclass
class Context:
    """What every stage needs; built once per worker process (the toolkit loads models)."""

    settings: Settings
    audit: Audit
    store: DocumentStore
    policy: Policy
    kit: Toolkit
    policy_version: str = ""
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass
class DocWork:
    """One document's in-memory state for one batch. Content lives here only, never in Prefect."""

    doc: str
    source: str  # the inbox name as claimed: never shown or written anywhere (``label`` is)
    label: str = ""  # ``source`` escaped and pseudonymised (``Toolkit.mask_source``), set by ``finish``
    maker: str | None = None  # the enrolled person who made it (None: unknown), set by ``finish``
    history: list[HistoryEntry] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    pdf: Any = None
    read_ahead: Any = None  # ``Toolkit.extract``'s result, computed during ingest while the parsers worked
    extraction: Any = None
    findings: list[Finding] = field(default_factory=list)
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    decision: PolicyDecision | None = None
    state: DocState | None = None
    quarantine: QuarantinedPayload | None = None
    unexpected: bool = False

    def recorded(self, kind: EntryKind) -> HistoryEntry | None:
        return next((entry for entry in reversed(self.history) if entry.kind == kind), None)

    @property
    def kind(self) -> DocKind:
        return self.extraction.kind if self.extraction is not None else DocKind.OTHER


def outbox_path(settings: Settings, doc: str) -> Path:
    return settings.outbox / f"{doc}.json"


def record_claims(ctx: Context, claims: list[Claimed], *, duplicates: list[Claimed]) -> None:
    """Store rows and ``doc.claimed``/``doc.duplicate`` entries for freshly claimed files (one transaction).

    Each entry's actor is the file's maker (``flows.makers``): the person the not-the-maker rule refuses.
    """
    drafts = []
    with ctx.store.session() as store:
        for claimed in claims:
            store.claim(claimed.doc, ctx.kit.hasher(claimed.source, purpose="source"))
    enrolled = enrolled_people(ctx.settings) if claims or duplicates else frozenset()

    def maker(claimed: Claimed) -> str:
        facts = FileFacts(folder=claimed.folder, owner=claimed.owner)
        return maker_of(facts, enrolled=enrolled, os_makers=ctx.policy.os_makers)

    for claimed in claims:
        drafts.append(
            Draft(
                EntryKind.CLAIMED,
                claimed.doc,
                maker(claimed),
                ClaimedPayload(source_hash=ctx.kit.hasher(claimed.source, purpose="source"), size=claimed.size),
            )
        )
    drafts += [
        Draft(EntryKind.DUPLICATE, dup.doc, maker(dup), DuplicatePayload(of_doc=dup.doc, reason="same_bytes"))
        for dup in duplicates
    ]
    _retry(lambda: ctx.audit.record(drafts))


def load_batch(ctx: Context, docs: list[str], *, resumed: bool) -> list[DocWork]:
    """In-memory work items; ``resumed`` reads each document's ledger history (after a crash or restart)."""
    from flows.claim import source_name

    batch = []
    for doc in docs:
        work = DocWork(doc=doc, source=source_name(ctx.settings.work_dir, doc))
        if resumed:
            work.history = ctx.audit.history(doc)
            if not work.recorded(EntryKind.CLAIMED):  # killed between the rename and the claim entry
                record_claims(ctx, [claimed_again(ctx.settings.work_dir, doc)], duplicates=[])
                work.history = ctx.audit.history(doc)
            work.seqs = [entry.seq for entry in work.history if entry.kind not in FINAL_KINDS]
        batch.append(work)
    return batch


def _active(batch: list[DocWork]) -> Iterator[DocWork]:
    return (work for work in batch if work.state is None)


def _retry(step: Callable[[], Any], attempts: int = 4, base_delay: float = 0.2) -> Any:
    """Retry transient failures (a busy DuckDB file, a timeout) with exponential backoff; re-raise the last."""
    for attempt in range(attempts):
        try:
            return step()
        except TRANSIENT:
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")


def _run_step(
    ctx: Context, batch: list[DocWork], stage: str, kind: EntryKind, step: Callable[[DocWork], BaseModel | None]
) -> None:
    """Apply ``step`` to each active document, then ledger its payloads in one transaction."""
    drafts: list[Draft] = []
    owners: list[DocWork] = []
    for work in _active(batch):
        try:
            payload = _retry(lambda work=work: step(work))
        except IngestFailure as failure:
            _quarantine(work, failure.code, stage, failure.detail)
            continue
        except Exception as exc:  # a bug or a broken dependency: quarantine, flag, never lose the document
            if _infrastructure(exc):
                raise  # not this document's fault: the batch fails and the worker retries it later
            log.exception("stage %s failed for doc %s (%s)", stage, work.doc[:12], type(exc).__name__)
            work.unexpected = True
            _quarantine(work, "INTERNAL_ERROR", stage, type(exc).__name__)
            continue
        if payload is not None and work.recorded(kind) is None:
            drafts.append(Draft(kind, work.doc, WORKER, payload))
            owners.append(work)
    for work, seq in zip(owners, _retry(lambda: ctx.audit.record(drafts)), strict=True):
        work.seqs.append(seq)


def _infrastructure(exc: Exception) -> bool:
    """A lock that outlasted its retries or a full disk: quarantining the document would punish the wrong party."""
    return isinstance(exc, TRANSIENT) or (isinstance(exc, OSError) and exc.errno in DISK_FULL)


def _quarantine(work: DocWork, reason: str, stage: str, detail: str) -> None:
    work.state = DocState.QUARANTINED
    work.quarantine = QuarantinedPayload(reason=reason, stage=stage, detail=detail[:200])


# Documents parsed at once. Parsing runs in sandbox children (extractors.sandbox keeps two), so two at once keep
# both cores of the reference machine busy while this process only waits on their pipes.
_PARSERS = 2


def ingest(ctx: Context, batch: list[DocWork]) -> None:
    """Parse the batch ``_PARSERS`` documents at a time; results are ledgered in batch order as before.

    Meanwhile this process, otherwise idle, already extracts each document as soon as it is parsed - only when
    extraction stays on this machine (no endpoint model tier), so nothing is sent or spent for a document before
    its ingest is ledgered. The extract stage records that result instead of computing it again."""

    def parse(work: DocWork) -> tuple[Any, BaseModel]:
        return ctx.kit.ingest(work_pdf(ctx.settings.work_dir, work.doc))

    with ThreadPoolExecutor(max_workers=_PARSERS, thread_name_prefix="ingest") as pool:
        parsed: dict[Future[tuple[Any, BaseModel]], DocWork] = {pool.submit(parse, w): w for w in _active(batch)}
        if ctx.kit.extracts_locally:
            for future in as_completed(parsed):
                _read_ahead(ctx, parsed[future], future)
    by_doc = {work.doc: future for future, work in parsed.items()}

    def step(work: DocWork) -> BaseModel:
        future = by_doc.pop(work.doc, None)  # a retry after a transient failure parses again, on its own
        work.pdf, payload = future.result() if future is not None else parse(work)
        return payload

    _run_step(ctx, batch, "ingest", EntryKind.INGESTED, step)


def _read_ahead(ctx: Context, work: DocWork, parsed: Future[tuple[Any, BaseModel]]) -> None:
    """``work``'s extraction ahead of its stage; a file that failed to parse, or an extraction that fails, is left
    to the stages, which quarantine it with their own stage name and reason."""
    if parsed.exception() is not None:
        return
    try:
        work.read_ahead = ctx.kit.extract(parsed.result()[0])
    except Exception:
        return


def extract(ctx: Context, batch: list[DocWork]) -> None:
    def step(work: DocWork) -> BaseModel:
        work.extraction, payload = work.read_ahead or ctx.kit.extract(work.pdf)
        work.read_ahead = None
        work.pdf = None  # pages are not needed any more; free them early on big batches
        return payload

    _run_step(ctx, batch, "extract", EntryKind.EXTRACTED, step)


def validate(ctx: Context, batch: list[DocWork]) -> None:
    with ctx.store.session() as store:  # duplicate checks read and write the store for every invoice

        def step(work: DocWork) -> BaseModel:
            work.findings, payload = ctx.kit.validate(work.extraction, work.doc, store)
            return payload

        _run_step(ctx, batch, "validate", EntryKind.VALIDATED, step)


def mask(ctx: Context, batch: list[DocWork]) -> None:
    def step(work: DocWork) -> BaseModel:
        work.fields, payload = ctx.kit.mask(work.extraction, work.doc)
        return payload

    _run_step(ctx, batch, "mask", EntryKind.MASKED, step)


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

    _run_step(ctx, batch, "decide", EntryKind.DECIDED, step)


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
    drafts: list[Draft] = []
    owners: list[DocWork] = []
    makers = ctx.audit.makers([work.doc for work in done])
    for work in done:
        work.maker = person_of(makers.get(work.doc, UNKNOWN_MAKER))
        if any(work.recorded(kind) for kind in FINAL_KINDS):
            continue  # only the store update and the file move may be missing
        digest = _write_own_result(ctx, work)
        drafts.append(Draft(_FINAL_KIND[work.state], work.doc, WORKER, _final_payload(work, digest)))
        owners.append(work)
    for work, seq in zip(owners, _retry(lambda: ctx.audit.record(drafts)), strict=True):
        work.seqs.append(seq)
    with ctx.store.session() as store:
        for work in done:
            store.update(work.doc, state=work.state, kind=work.kind)
    for work in done:
        release(ctx.settings.work_dir, work.doc, _destination(ctx.settings, work))
        if work.quarantine is not None:
            reason = work.quarantine.model_dump(mode="json") | {"doc": work.doc, "source": work.label or work.doc}
            atomic_write(ctx.settings.quarantine_dir / f"{work.doc}.reason.json", json.dumps(reason).encode())


def _write_own_result(ctx: Context, work: DocWork) -> str:
    """Mask the name and write the outbox record; a document whose record fails is quarantined, not its batch."""
    try:
        work.label = ctx.kit.mask_source(work.source, work.doc)
        return write_result(ctx.settings, _result(work))
    except Exception as exc:
        if _infrastructure(exc):
            raise
        log.exception("finishing doc %s failed (%s)", work.doc[:12], type(exc).__name__)
        work.unexpected, work.label = True, f"{work.doc}.pdf"  # the id: nothing of the name can leak
        _quarantine(work, "INTERNAL_ERROR", "finish", type(exc).__name__)
        return write_result(ctx.settings, _result(work))


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
            fields_sha256=fields_digest(json.loads(_result(work).to_json())["fields"]),  # as the outbox shows them
        )
    return FinalPayload(state=work.state, result_sha256=digest)


def _destination(settings: Settings, work: DocWork) -> Path:
    if work.state is DocState.QUARANTINED:
        return settings.quarantine_dir / f"{work.doc}.pdf"
    if work.state is DocState.AWAITING_APPROVAL:
        return settings.awaiting_pdf(work.doc)
    return settings.archive_dir / f"{work.doc}.pdf"


def _result(work: DocWork) -> DocumentResult:
    """The outbox record. The ledger span covers the entries that led to this state (the final one follows)."""
    calls = work.extraction.calls if work.extraction is not None else []
    outcome = work.decision.outcome if work.decision is not None else Outcome.QUARANTINE
    findings = list(work.findings)
    if work.quarantine is not None:
        findings.append(Finding(code=work.quarantine.reason, message=f"quarantined at {work.quarantine.stage}"))
    seqs = work.seqs or [0]
    return DocumentResult(
        doc=work.doc,
        source=work.label,
        maker=work.maker,
        kind=work.kind,
        state=work.state,
        fields=work.fields,
        findings=findings,
        decision=Decision(outcome=outcome, rule=work.decision.rule if work.decision is not None else None),
        ledger=LedgerSpan(first_seq=min(seqs), last_seq=max(seqs)),
        cost=Cost(
            tokens=sum(call.tokens_in + call.tokens_out for call in calls),
            usd=float(sum((call.usd for call in calls), Decimal(0))),
        ),
    )


def write_result(settings: Settings, result: DocumentResult) -> str:
    """Write ``outbox/<doc>.json`` atomically; return its SHA-256 for the ledger."""
    data = result.to_json().encode()
    atomic_write(outbox_path(settings, result.doc), data)
    return hashlib.sha256(data).hexdigest()


STAGES: tuple[Callable[[Context, list[DocWork]], None], ...] = (ingest, extract, validate, mask, decide, finish)


def run_stages(ctx: Context, batch: list[DocWork]) -> list[DocWork]:
    """All stages in order, as plain calls: the baseline the benchmark compares the Prefect flow against."""
    for stage in STAGES:
        stage(ctx, batch)
    return batch
