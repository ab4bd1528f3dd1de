"""Approval states read in bulk: one query per ledger, then the core's pure fold per document.

``docval pending``, the deadline runs and the start-up sweep ask about every open document at once; reading
each document's history separately would cost a query per document (10,000 waiting: seconds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from approvals.state import ApprovalState, fold_state
from docval.settings import Settings
from docval.shards import root_settings, shard_names, shard_settings
from ledger import Entry, Ledger

__all__ = ["OpenDocument", "ledger_of", "open_documents"]

_OPEN = """
SELECT body FROM entries
WHERE doc IN (SELECT doc FROM entries WHERE kind = 'approval.requested')
  AND doc NOT IN (SELECT doc FROM entries WHERE kind IN ('doc.published', 'doc.rejected'))
ORDER BY seq
"""


@dataclass(frozen=True)
class OpenDocument:
    shard: str | None  # the ledger holding the document's history (None: the root)
    state: ApprovalState
    requested_at: str


def ledger_of(settings: Settings, shard: str | None) -> Ledger:
    root = root_settings(settings)
    return Ledger.open(root if shard is None else shard_settings(root, shard))


def open_documents(settings: Settings) -> Iterator[OpenDocument]:
    """Every document that asked for people and is not yet published or rejected (decided ones included)."""
    for shard in [None, *shard_names(root_settings(settings))]:
        by_doc: dict[str, list[Entry]] = defaultdict(list)
        with ledger_of(settings, shard).reader() as reader:
            for (body,) in reader.con.execute(_OPEN).fetchall():
                entry = Entry.from_canonical(bytes(body))
                by_doc[entry.doc].append(entry)
        for doc, entries in by_doc.items():
            requested = [entry.ts for entry in entries if entry.kind == "approval.requested"]
            yield OpenDocument(shard, fold_state(doc, entries), requested[-1])
