"""``docval pending``: documents waiting for people, why they wait and who decided so far (no content).

One query per ledger (``flows.approvals.states``) and the core's fold; the source name comes from the
outbox record, where it is already masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from docval.domain import DocumentResult
from docval.settings import Settings
from docval.store import DocumentStore
from flows.approvals.states import open_documents
from flows.errors import FlowError
from flows.pipeline import outbox_path

__all__ = ["pending_rows", "resolve_doc"]


def pending_rows(settings: Settings) -> list[dict[str, Any]]:
    """One dict per waiting document, oldest request first; ``docval pending --json`` prints them."""
    now = datetime.now(UTC)
    rows = []
    for item in open_documents(settings):
        state = item.state
        if not state.waiting:
            continue  # decided: publishing follows
        senior = state.escalated or (state.deadline is not None and state.deadline <= now)
        rows.append(
            {
                "doc": state.doc,
                "source": _source(settings, state.doc),
                "maker": state.maker,
                "rule": state.rule,
                "policy": state.policy,
                "findings": list(state.findings),
                "approvals_required": state.approvals_required,
                "approvals": [{"user": c.person, "role": c.role.value, "at": c.at} for c in state.approvals],
                "requested_at": item.requested_at,
                "deadline": state.deadline.isoformat(timespec="seconds") if state.deadline else None,
                "overdue": bool(state.deadline and state.deadline <= now),
                "queue": "senior_reviewer" if senior else "reviewer",
                "ledger": item.shard or "root",
            }
        )
    return sorted(rows, key=lambda row: row["requested_at"])


def _source(settings: Settings, doc: str) -> str:
    try:
        return DocumentResult.model_validate_json(outbox_path(settings, doc).read_bytes()).source
    except (OSError, ValueError):
        return doc[:12]


def resolve_doc(settings: Settings, prefix: str) -> str:
    """A full document id from a unique prefix of at least 8 hex digits."""
    prefix = prefix.strip().lower()
    if len(prefix) < 8:
        raise FlowError("give at least 8 hex digits of the document id")
    matches = [record.doc for record in DocumentStore(settings.store_db).all() if record.doc.startswith(prefix)]
    if len(matches) != 1:
        raise FlowError(f"{len(matches)} documents match {prefix!r}")
    return matches[0]
