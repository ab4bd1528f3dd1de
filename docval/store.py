"""The document store: one row per document id, its state, and the keys duplicate checks need.

It answers "have we seen these bytes / this seller's invoice number before?"
and "where is document X now?". It holds ids, states and keyed hashes only;
values live in the outbox (pseudonymized) and the vault (encrypted).
Connections are short-lived under ``docval.db``'s file lock, so reports can
read while the worker writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from pydantic import BaseModel

from docval.db import connect
from docval.domain import DocKind, DocState

__all__ = ["DocumentRecord", "DocumentStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc         VARCHAR PRIMARY KEY,
    source_hash VARCHAR NOT NULL,
    kind        VARCHAR,
    state       VARCHAR,
    seller_key  VARCHAR,
    number_key  VARCHAR,
    claimed_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
)
"""


class DocumentRecord(BaseModel):
    doc: str
    source_hash: str
    kind: DocKind | None
    state: DocState | None
    seller_key: str | None
    number_key: str | None
    claimed_at: datetime
    updated_at: datetime


class DocumentStore:
    def __init__(self, path: Path, *, lock_timeout: float = 30.0) -> None:
        self.path = path
        self._timeout = lock_timeout
        self._held: duckdb.DuckDBPyConnection | None = None
        with connect(path, write=True, timeout=lock_timeout) as db:
            db.execute(_SCHEMA)

    @contextmanager
    def session(self) -> Iterator[DocumentStore]:
        """This store on ONE write connection and ONE transaction for the block: a batch stage's many small calls.

        Opening a DuckDB file costs more than the work of a call, and so does committing one (a single-row
        update in its own transaction took ~3 ms, in a shared one ~0.1 ms); a batch of 200 documents would
        spend most of its time on both. The exclusive lock is held for the block, so keep blocks short (one
        stage of one batch); a block that raises leaves nothing (every write here is redone on resume).
        """
        with connect(self.path, write=True, timeout=self._timeout) as db:
            bound = DocumentStore.__new__(DocumentStore)
            bound.path, bound._timeout, bound._held = self.path, self._timeout, db
            db.begin()
            yield bound
            db.commit()

    @contextmanager
    def _db(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
            return
        with connect(self.path, write=write, timeout=self._timeout) as db:
            yield db

    def claim(self, doc: str, source_hash: str) -> bool:
        """Record a newly claimed document; False if these bytes were claimed before (idempotent)."""
        return bool(self.claim_many([(doc, source_hash)]))

    def claim_many(self, claims: Sequence[tuple[str, str]]) -> set[str]:
        """Record newly claimed documents, ``(doc, source_hash)`` each, in ONE statement; the ids inserted (those
        claimed before are left as they are).

        A batch's claims one statement each cost ~1.2 ms apiece even in one transaction (DuckDB's index insert
        and ``RETURNING``): 58 real PDFs handed in spent 0.07-0.16 s here, in the step before their flow run.
        Each row still gets a time of its own, a microsecond after the one before: the duplicate check takes
        the earlier claim of two equal invoices for the original, and equal times would make both duplicates."""
        if not claims:
            return set()
        now = datetime.now(UTC)
        rows = _rows(len(claims), 4)
        stamps = [now + timedelta(microseconds=index) for index in range(len(claims))]
        with self._db(write=True) as db:
            inserted = db.execute(
                f"INSERT INTO documents (doc, source_hash, claimed_at, updated_at) VALUES {rows} "
                "ON CONFLICT DO NOTHING RETURNING doc",
                [
                    value
                    for (doc, source_hash), at in zip(claims, stamps, strict=True)
                    for value in (doc, source_hash, at, at)
                ],
            ).fetchall()
        return {row[0] for row in inserted}

    def update(
        self,
        doc: str,
        *,
        state: DocState | None = None,
        kind: DocKind | None = None,
        seller_key: str | None = None,
        number_key: str | None = None,
    ) -> None:
        with self._db(write=True) as db:
            db.execute(
                "UPDATE documents SET state = coalesce(?, state), kind = coalesce(?, kind), "
                "seller_key = coalesce(?, seller_key), number_key = coalesce(?, number_key), "
                "updated_at = ? WHERE doc = ?",
                [state, kind, seller_key, number_key, datetime.now(UTC), doc],
            )

    def get(self, doc: str) -> DocumentRecord | None:
        with self._db(write=False) as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE doc = ?", [doc]).fetchone()
        return _record(row) if row else None

    def update_states(self, updates: Sequence[tuple[str, DocState, DocKind | None]]) -> None:
        """``update(doc, state=, kind=)`` for each ``(doc, state, kind)``, in ONE statement: a batch's final states
        one statement each cost ~0.5 ms apiece even in one transaction."""
        if not updates:
            return
        rows = _rows(len(updates), 3)
        with self._db(write=True) as db:
            db.execute(
                f"UPDATE documents SET state = new.state, kind = coalesce(new.kind, documents.kind), updated_at = ? "
                f"FROM (VALUES {rows}) AS new(doc, state, kind) WHERE documents.doc = new.doc",
                [datetime.now(UTC), *(value for doc, state, kind in updates for value in (doc, state, kind))],
            )

    def mark_invoices(self, keys: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        """Record each document's ``(seller_key, number_key)``, then name, for each that has one, the first document
        claimed no later than it with the same keys: it is that one's duplicate. The earlier claim is the original,
        also when it is validated again, and whatever order a batch holds them in. ONE update and ONE query for a
        batch, where a document at a time cost ~1.4 ms each."""
        if not keys:
            return {}
        rows = _rows(len(keys), 3)
        values = [value for doc, (seller, number) in keys.items() for value in (doc, seller, number)]
        marked = f"(VALUES {rows}) AS marked(doc, seller_key, number_key)"
        with self._db(write=True) as db:
            db.execute(
                f"UPDATE documents SET seller_key = marked.seller_key, number_key = marked.number_key, updated_at = ? "
                f"FROM {marked} WHERE documents.doc = marked.doc",
                [datetime.now(UTC), *values],
            )
            found = db.execute(
                f"SELECT marked.doc, arg_min(other.doc, other.claimed_at) FROM {marked} "
                "LEFT JOIN documents this ON this.doc = marked.doc JOIN documents other "
                "ON other.seller_key = marked.seller_key AND other.number_key = marked.number_key "
                "AND other.doc <> marked.doc "
                "AND other.claimed_at <= coalesce(this.claimed_at, 'infinity'::TIMESTAMPTZ) GROUP BY marked.doc",
                values,
            ).fetchall()
        return dict(found)

    def all(self) -> list[DocumentRecord]:
        with self._db(write=False) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM documents ORDER BY claimed_at").fetchall()
        return [_record(row) for row in rows]


def _rows(count: int, width: int) -> str:
    """``count`` rows of ``width`` parameters for a ``VALUES`` list: a batch's rows in one statement."""
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * count)


_COLUMNS = "doc, source_hash, kind, state, seller_key, number_key, claimed_at, updated_at"


def _record(row: tuple) -> DocumentRecord:
    return DocumentRecord(**dict(zip(_COLUMNS.split(", "), row, strict=True)))
