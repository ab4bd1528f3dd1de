"""The ledger as flows/ uses it: typed payloads in, sequence numbers out, history per document.

Every entry flows/ writes is built from a ``docval.events`` payload model, so
a renamed field fails here rather than in an auditor's tool. Entries of one
stage of a batch are appended in one transaction (``append_many``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from docval.events import EntryKind
from docval.settings import Settings

__all__ = ["Audit", "Draft", "HistoryEntry"]


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

    def record(self, drafts: list[Draft]) -> list[int]:
        """Append the drafts in one transaction; their sequence numbers in order."""
        if not drafts:
            return []
        from ledger import EntryDraft

        return list(
            self._ledger.append_many(
                [
                    EntryDraft(draft.kind, draft.doc, draft.actor, draft.payload.model_dump(mode="json"))
                    for draft in drafts
                ]
            )
        )

    def history(self, doc: str) -> list[HistoryEntry]:
        return [
            HistoryEntry(seq=entry.seq, ts=entry.ts, kind=str(entry.kind), actor=entry.actor, data=dict(entry.data))
            for entry in self._ledger.entries_for_doc(doc)
        ]

    def claimed(self, docs: list[str]) -> set[str]:
        """Which of ``docs`` have a ``doc.claimed`` entry here: one query, not a history read per document."""
        if not docs:
            return set()
        with self._ledger.reader() as reader:
            rows = reader.con.execute(
                "SELECT DISTINCT doc FROM entries WHERE kind = ? AND list_contains(?, doc)",
                [EntryKind.CLAIMED.value, docs],
            ).fetchall()
        return {row[0] for row in rows}

    def checkpoint(self) -> None:
        self._ledger.checkpoint()
