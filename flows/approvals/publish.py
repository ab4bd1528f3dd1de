"""Publishing a decided document: one short flow run (started by ``flows.approvals.trigger.start_publish``).

The core records decisions; once a document's folded state has an outcome, its outbox record, final ledger
entry, store state and archived original follow here. Every step is idempotent and derived from the ledger,
so a publish run cancelled in the Prefect UI or killed half-way strands nothing: the next run (started by
the next decision, the deadline runs or ``docval up``'s sweep) finishes the job. The final entry is appended
under the ledger's write lock only if no final entry exists, so two runs racing publish once.
"""

from __future__ import annotations

import logging
import os

from prefect import flow

from approvals.state import ApprovalState, Counted, fold_state
from docval.domain import Approver, Decision, DocState, DocumentResult, LedgerSpan, Outcome
from docval.events import EntryKind, FinalPayload
from docval.settings import Settings, load_settings
from docval.store import DocumentStore
from flows.approvals.states import ledger_of, open_documents
from flows.approvals.trigger import PUBLISH_DEPLOYMENT, PUBLISH_FLOW
from flows.claim import release
from flows.outbox import outbox_path, write_result
from ledger import EntryDraft, LedgerReader

__all__ = ["PUBLISH_DEPLOYMENT", "PUBLISH_FLOW", "finish_decided", "publish_decision", "sweep"]

log = logging.getLogger(__name__)

PUBLISHER = "docval-publish"
_FINAL = {EntryKind.PUBLISHED.value, EntryKind.REJECTED.value}


@flow(name=PUBLISH_FLOW, persist_result=False, log_prints=False)
def publish_decision(doc_id: str, shard: str | None = None) -> str:
    """Publish or reject one decided document; returns its state (or 'waiting' if nothing is decided yet)."""
    final = finish_decided(load_settings(), doc_id, shard)
    return final.value if final else "waiting"


def finish_decided(settings: Settings, doc: str, shard: str | None) -> DocState | None:
    """Outbox record, final ledger entry, store state and archive for a document the ledger says is decided."""
    ledger = ledger_of(settings, shard)
    entries = ledger.entries_for_doc(doc)
    state = fold_state(doc, entries)
    if state.final is None and state.outcome is None:
        return None
    final = DocState.PUBLISHED if (state.final or state.outcome) in {"published", "publish"} else DocState.REJECTED
    if state.final is None:
        span = [entry.seq for entry in entries if entry.kind not in _FINAL]
        digest = write_result(settings, _result(settings, state, final, span))
        kind = EntryKind.PUBLISHED if final is DocState.PUBLISHED else EntryKind.REJECTED
        payload = FinalPayload(state=final, result_sha256=digest).model_dump(mode="json")

        def build(reader: LedgerReader) -> list[EntryDraft]:
            if any(entry.kind in _FINAL for entry in reader.entries_for_doc(doc)):
                return []  # another run published first
            return [EntryDraft(kind.value, doc, PUBLISHER, payload)]

        ledger.append_with(build)
    DocumentStore(settings.store_db).update(doc, state=final)
    archived = settings.archive_dir / f"{doc}.pdf"
    release(settings.work_dir, doc, archived)  # sidecar, if any
    if settings.awaiting_pdf(doc).exists():
        os.replace(settings.awaiting_pdf(doc), archived)
    return final


def _result(settings: Settings, state: ApprovalState, final: DocState, span: list[int]) -> DocumentResult:
    previous = DocumentResult.model_validate_json(outbox_path(settings, state.doc).read_text(encoding="utf-8"))
    decision = Decision(
        outcome=Outcome.NEEDS_APPROVAL,
        rule=state.rule or previous.decision.rule,
        policy=state.policy or previous.decision.policy,
        approvers=[_approver(counted) for counted in state.approvals],
        rejections=[_approver(counted) for counted in state.rejections],
    )
    return previous.model_copy(
        update={"state": final, "decision": decision, "ledger": LedgerSpan(first_seq=min(span), last_seq=max(span))}
    )


def _approver(counted: Counted) -> Approver:
    return Approver(user=counted.person, role=counted.role.value, at=counted.at)


def sweep(settings: Settings) -> int:
    """Finish every decided but unpublished document (after a crash, a cancelled run, a restart); how many."""
    done = 0
    for item in open_documents(settings):
        if item.state.outcome is not None:
            finish_decided(settings, item.state.doc, item.shard)
            done += 1
    if done:
        log.info("published %d decided documents left unfinished", done)
    return done
