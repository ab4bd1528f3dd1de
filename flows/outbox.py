"""The outbox record of a document that reached a final state: what it says, where it goes, how it is written.

Split from the finish stage because the approval flows write the same record again (publish) and read it
(pending, decide); the record holds masked fields and the pseudonymised source only, never raw PII.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from docval.domain import Cost, Decision, DocumentResult, Finding, LedgerSpan, Outcome
from docval.settings import Settings
from flows.claim import atomic_write
from flows.stage import DocWork


def outbox_path(settings: Settings, doc: str) -> Path:
    return settings.outbox / f"{doc}.json"


def document_result(work: DocWork) -> DocumentResult:
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


# Outbox files written at once by ``write_results``: each waits on its own fsync, and the file system commits
# concurrent fsyncs together, so a batch's records cost about one disk flush instead of one each.
_WRITERS = 8


def write_results(settings: Settings, results: list[DocumentResult]) -> list[str]:
    """``write_result`` for each record, concurrently; their SHA-256 in order. Raises the first failure."""
    if len(results) < 2:
        return [write_result(settings, result) for result in results]
    with ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="outbox") as pool:
        return list(pool.map(lambda result: write_result(settings, result), results))
