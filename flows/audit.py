"""The ledger as flows/ uses it: typed payloads in, sequence numbers out, history per document.

Every entry flows/ writes is built from a ``docval.events`` payload model, so
a renamed field fails here rather than in an auditor's tool. Entries of one
stage of a batch are appended in one transaction (``append_many``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from docval.events import EntryKind
from docval.settings import Settings
from docval.shards import root_settings, shard_names, shard_settings

if TYPE_CHECKING:
    from ledger import LedgerReader, LedgerWriter

__all__ = ["Audit", "Draft", "HistoryEntry", "Ledgers"]


@dataclass(frozen=True)
class Draft:
    kind: EntryKind
    doc: str | None
    actor: str
    payload: BaseModel


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    ts: str
    kind: str
    actor: str
    data: dict[str, Any]


class Audit:
    def __init__(self, settings: Settings) -> None:
        from ledger import Ledger

        self._ledger = Ledger.open(settings)
        self._writer: LedgerWriter | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """The block's entries, reads and signature on one held connection (``ledger.writer``), not one each.

        Opening and closing DuckDB were ~23 of a stage record's ~35 ms, paid by every stage of every batch after the
        children's parsing, on one core (benchmarks/README.md, session 18). Each record is still its own
        transaction; others wait for the lock at most about one hold (``ledger.writer_hold_seconds``), as for any
        bulk writer. A block inside another shares its connection.
        """
        if self._writer is not None:
            yield
            return
        with self._ledger.writer(sign_on_close=False) as writer:
            self._writer = writer
            try:
                yield
            finally:
                self._writer = None

    def _reading(self) -> AbstractContextManager[LedgerReader]:
        return self._writer.reader() if self._writer is not None else self._ledger.reader()

    def record(self, drafts: list[Draft]) -> list[int]:
        """Append the drafts in one transaction; their sequence numbers in order."""
        if not drafts:
            return []
        from ledger import EntryDraft

        entries = [
            EntryDraft(draft.kind, draft.doc, draft.actor, draft.payload.model_dump(mode="json")) for draft in drafts
        ]
        return list((self._writer or self._ledger).append_many(entries))

    def history(self, doc: str) -> list[HistoryEntry]:
        return self.histories([doc])[doc]

    def histories(self, docs: list[str]) -> dict[str, list[HistoryEntry]]:
        """Each document's entries in seq order, from one read (a resumed batch of hundreds opened it per doc)."""
        found: dict[str, list[HistoryEntry]] = {doc: [] for doc in docs}
        if not docs:
            return found
        with self._reading() as reader:
            entries = reader.entries_for_docs(docs)
        for entry in entries:
            found[entry.doc].append(
                HistoryEntry(seq=entry.seq, ts=entry.ts, kind=str(entry.kind), actor=entry.actor, data=dict(entry.data))
            )
        return found

    def claimed(self, docs: list[str]) -> set[str]:
        """Which of ``docs`` have a ``doc.claimed`` entry here: one query, not a history read per document."""
        if not docs:
            return set()
        with self._reading() as reader:
            rows = reader.con.execute(
                "SELECT DISTINCT doc FROM entries WHERE kind = ? AND list_contains(?, doc)",
                [EntryKind.CLAIMED.value, docs],
            ).fetchall()
        return {row[0] for row in rows}

    def makers(self, docs: list[str]) -> dict[str, str]:
        """Each document's ``doc.claimed`` actor (its maker, ``flows.makers``): one query for a batch."""
        from ledger import Entry

        if not docs:
            return {}
        with self._reading() as reader:
            rows = reader.con.execute(
                "SELECT body FROM entries WHERE kind = ? AND list_contains(?, doc)", [EntryKind.CLAIMED.value, docs]
            ).fetchall()
        return {entry.doc: entry.actor for entry in (Entry.from_canonical(bytes(body)) for (body,) in rows)}

    def checkpoint(self) -> None:
        """Sign what is unsigned (nothing to do on an empty ledger)."""
        if self._writer is not None:
            self._writer.checkpoint()  # offered to the witnesses when the session lets the lock go
        else:
            self._ledger.sign_pending()


class Ledgers:
    """Every ledger of an installation, the root first and then each shard, to find a document's *home*.

    All entries of one document live in one ledger: the one whose worker claimed it (a cluster worker
    writes its own shard). Approval runs, ``docval pending`` and ``docval approve`` run in other processes,
    so they look the home up rather than assume the root; approvals then extend the same ledger, which
    keeps a document's lineage and its ledger span in one chain.
    """

    def __init__(self, settings: Settings) -> None:
        self.root = root_settings(settings)
        self._audits: dict[str | None, Audit] = {None: Audit(self.root)}
        for name in shard_names(self.root):
            self._audits[name] = Audit(shard_settings(self.root, name))

    def home(self, doc: str) -> tuple[str | None, list[HistoryEntry]]:
        """The shard holding ``doc`` (None: the root) and its history there; ``(None, [])`` if no ledger has it."""
        for shard, audit in self._audits.items():
            history = audit.history(doc)
            if history:
                return shard, history
        return None, []

    def homes(self, docs: list[str]) -> dict[str, str | None]:
        """The shard holding each of ``docs`` (None: the root), one ``claimed`` query per ledger.

        A document's history starts with its ``doc.claimed``; documents no ledger has are left out.
        """
        found: dict[str, str | None] = {}
        for shard, audit in self._audits.items():
            found |= dict.fromkeys(audit.claimed([doc for doc in docs if doc not in found]), shard)
        return found

    def audit(self, shard: str | None) -> Audit:
        return self._audits[shard]
