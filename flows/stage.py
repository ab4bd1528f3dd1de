"""The machinery every pipeline stage shares: a batch's in-memory state and the running of one step over it.

``Context`` is what a worker builds once; ``DocWork`` is one document's state for one batch (content lives
here only, never in Prefect). ``run_step`` applies one step to each document still in play and ledgers the
batch's payloads in one transaction, so flows/pipeline.py reads as the stages alone. A document whose step
fails is quarantined, never lost; a failure that is not the document's fault (a busy DuckDB file, a full
disk) fails the batch so the worker retries it later.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from docval.domain import DocKind, DocState, ExtractedField, Finding
from docval.errors import StoreBusyError
from docval.events import EntryKind, QuarantinedPayload
from docval.settings import Settings
from docval.store import DocumentStore
from flows.audit import Audit, Draft, HistoryEntry
from flows.policy import Policy, PolicyDecision
from flows.toolkit import Ingested, IngestFailure, Toolkit

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
    parsing: Future[tuple[Ingested, BaseModel]] | None = None  # its parse, started ahead (``parsing_ahead``)
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


def active(batch: list[DocWork]) -> Iterator[DocWork]:
    return (work for work in batch if work.state is None)


def retry(step: Callable[[], Any], attempts: int = 4, base_delay: float = 0.2) -> Any:
    """Retry transient failures (a busy DuckDB file, a timeout) with exponential backoff; re-raise the last."""
    for attempt in range(attempts):
        try:
            return step()
        except TRANSIENT:
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")


def run_step(
    ctx: Context,
    batch: list[DocWork],
    stage: str,
    kind: EntryKind,
    step: Callable[[DocWork], BaseModel | None],
    *,
    within: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> None:
    """Apply ``step`` to each active document, then ledger its payloads in one transaction.

    The steps run inside ``within()`` (the PII vault's transaction for masking), which is closed, so committed,
    before the ledger says the step was done.
    """
    drafts: list[Draft] = []
    owners: list[DocWork] = []
    with within():
        for work in active(batch):
            try:
                payload = retry(lambda work=work: step(work))
            except IngestFailure as failure:
                quarantine(work, failure.code, stage, failure.detail)
                continue
            except Exception as exc:  # a bug or a broken dependency: quarantine, flag, never lose the document
                if infrastructure(exc):
                    raise  # not this document's fault: the batch fails and the worker retries it later
                log.exception("stage %s failed for doc %s (%s)", stage, work.doc[:12], type(exc).__name__)
                work.unexpected = True
                quarantine(work, "INTERNAL_ERROR", stage, type(exc).__name__)
                continue
            if payload is not None and work.recorded(kind) is None:
                drafts.append(Draft(kind, work.doc, WORKER, payload))
                owners.append(work)
    for work, seq in zip(owners, retry(lambda: ctx.audit.record(drafts)), strict=True):
        work.seqs.append(seq)


def infrastructure(exc: Exception) -> bool:
    """A lock that outlasted its retries or a full disk: quarantining the document would punish the wrong party."""
    return isinstance(exc, TRANSIENT) or (isinstance(exc, OSError) and exc.errno in DISK_FULL)


def quarantine(work: DocWork, reason: str, stage: str, detail: str) -> None:
    work.state = DocState.QUARANTINED
    work.quarantine = QuarantinedPayload(reason=reason, stage=stage, detail=detail[:200])
