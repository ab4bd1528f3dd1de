"""``docval pending``: documents waiting for people, why they wait and who decided so far (no content).

One query per ledger (``flows.approvals.states``) and the core's fold; the source name comes from the
outbox record, where it is already masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from docval.settings import Settings
from docval.store import DocumentStore
from flows.approvals.states import open_documents
from flows.errors import FlowError
from flows.makers import person_of
from flows.outbox import outbox_path

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
                "maker": person_of(state.maker) if state.maker is not None else None,
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
    """The outbox record's (masked) ``source``; read without validating the record (10,000 of them per call)."""
    try:
        return str(orjson.loads(outbox_path(settings, doc).read_bytes())["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return doc[:12]


def resolve_doc(settings: Settings, prefix: str) -> str:
    """A full document id from a unique prefix of at least 8 hex digits."""
    prefix = prefix.strip().lower()
    if len(prefix) < 8:
        raise FlowError("give at least 8 hex digits of the document id")
    store = DocumentStore(settings.store_db)
    if len(prefix) == 64 and store.get(prefix) is not None:  # a full id: no scan of every document
        return prefix
    matches = [record.doc for record in store.all() if record.doc.startswith(prefix)]
    if len(matches) != 1:
        raise FlowError(f"{len(matches)} documents match {prefix!r}")
    return matches[0]
