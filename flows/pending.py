"""``docval pending``: documents waiting for people, with age, deadline and queue (ids and file names, no content)."""

from __future__ import annotations

from datetime import UTC, datetime

from docval.domain import DocState, DocumentResult
from docval.events import EntryKind
from docval.settings import Settings
from docval.store import DocumentStore
from flows.approval import SENIOR_QUEUE, gate_state
from flows.audit import Ledgers
from flows.claim import source_name
from flows.pipeline import outbox_path

__all__ = ["pending_rows", "resolve_doc"]


def pending_rows(settings: Settings) -> list[dict[str, str]]:
    ledgers = Ledgers(settings)
    now = datetime.now(UTC)
    rows = []
    for record in DocumentStore(settings.store_db).all():
        if record.state != DocState.AWAITING_APPROVAL:
            continue
        shard, history = ledgers.home(record.doc)
        state = gate_state(record.doc, history)
        requested = next(entry for entry in history if entry.kind == EntryKind.APPROVAL_REQUESTED)
        age = now - datetime.fromisoformat(requested.ts)
        rows.append(
            {
                "doc": record.doc,
                "source": _inbox_name(settings, record.doc),
                "age": f"{int(age.total_seconds() // 60)} min",
                "deadline": state.deadline.isoformat(timespec="seconds"),
                "overdue": "yes" if state.deadline < now else "no",
                "queue": SENIOR_QUEUE if state.escalated else "reviewer",
                "approvals": f"{len(state.approvers)}/{state.request.approvals_required}",
                "ledger": shard or "root",
            }
        )
    return rows


def _inbox_name(settings: Settings, doc: str) -> str:
    """The name the file had in the inbox: from its outbox record (a waiting document's sidecar is gone)."""
    try:
        return DocumentResult.model_validate_json(outbox_path(settings, doc).read_bytes()).source
    except (OSError, ValueError):
        return source_name(settings.work_dir, doc)


def resolve_doc(settings: Settings, prefix: str) -> str:
    """A full document id from a unique prefix of at least 8 hex digits."""
    from flows.errors import FlowError

    prefix = prefix.strip().lower()
    if len(prefix) < 8:
        raise FlowError("give at least 8 hex digits of the document id")
    matches = [record.doc for record in DocumentStore(settings.store_db).all() if record.doc.startswith(prefix)]
    if len(matches) != 1:
        raise FlowError(f"{len(matches)} documents match {prefix!r}")
    return matches[0]
