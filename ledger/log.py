"""The ledger in DuckDB: entries, complete-subtree hashes, signed checkpoints.

Tables: ``entries`` (seq, canonical bytes, kind, doc), ``nodes`` (post-order
position, level, hash of a complete subtree, leaves included), ``checkpoints``
(every signed note ever written) and ``head`` (one row: size, last leaf, the
right border of the tree, last checkpoint, key in force). Nodes are keyed by
post-order position because that is the order appends complete them: inserts
stay sorted, DuckDB's min/max zone maps find a position range without an index
(indexes made appends slower and file opens slower), and the nodes below any
complete subtree are one contiguous range. An append reads only ``head``.

Proofs, and the node cache that makes them one small query, are ``ledger.reader``;
the entry format and its encoding are ``ledger.entries``.

Hashes are stored uncompressed: they are random, and DuckDB's compression
analysis of them cost 15-25 % of each append's commit for nothing.

Every operation opens a short-lived connection through ``docval.db.connect``:
writers hold the exclusive file lock for one transaction, so several processes
may append, a SIGKILL mid-batch leaves all or nothing, and readers (reports,
verify) get in between batches. The one exception is ``LedgerWriter`` (``ledger.writer``), a
single-owner writer's session that keeps its connection for at most
``writer_hold_seconds`` at a time (still one transaction per batch). Every checkpoint is also appended to
``ledger.duckdb.checkpoints`` beside the database: a copy outside the file an
attacker would have to roll back, which ``verify`` checks the log against.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from docval.db import connect
from docval.events import KeyRotatedPayload
from docval.settings import LedgerSettings, Settings
from ledger import merkle
from ledger.bundle_verify import ZERO_HASH_HEX, Checkpoint, VerifyError, handover_text, split_note
from ledger.entries import KEY_ROTATED, Entry, EntryDraft, check_drafts, encode_entries
from ledger.errors import LedgerError
from ledger.keys import SigningKey, load_anchor, load_signing_key, sign_note, signing_key_path, write_new_key
from ledger.reader import LedgerReader, NodeCache, split_border
from ledger.writer import LedgerWriter

if TYPE_CHECKING:
    from ledger.verify import VerifyReport

__all__ = ["Ledger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (seq BIGINT NOT NULL, body BLOB NOT NULL, kind VARCHAR NOT NULL, doc VARCHAR);
CREATE TABLE IF NOT EXISTS nodes (
    pos BIGINT NOT NULL, level UTINYINT NOT NULL, hash BLOB NOT NULL USING COMPRESSION uncompressed
);
CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, signed_at DOUBLE NOT NULL, note VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS head (
    one INTEGER PRIMARY KEY CHECK (one = 1), size BIGINT NOT NULL, last_leaf BLOB, border BLOB NOT NULL,
    checkpoint_size BIGINT NOT NULL, checkpoint_at DOUBLE NOT NULL, active_key VARCHAR
);
INSERT INTO head SELECT 1, 0, NULL, ''::BLOB, 0, 0, NULL WHERE NOT EXISTS (SELECT 1 FROM head);
"""


def _node_columns(completed: list[merkle.Level]) -> dict[str, np.ndarray]:
    """Columns for the nodes table; post-order positions computed for whole levels at once."""
    positions, levels = [], []
    for level, first, values in completed:
        last_leaf = ((np.arange(first, first + len(values), dtype=np.int64) + 1) << level) - 1
        positions.append(2 * last_leaf - np.bitwise_count(last_leaf).astype(np.int64) + level)
        levels.append(np.full(len(values), level, dtype=np.uint8))
    return {
        "pos": np.concatenate(positions),
        "level": np.concatenate(levels),
        "hash": np.array([value for _, _, values in completed for value in values], dtype=object),
    }


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Ledger:
    """One ledger database; cheap to open, holds no connection between calls."""

    def __init__(self, db_path: Path, keys_dir: Path, config: LedgerSettings) -> None:
        self.db_path = db_path
        self.keys_dir = keys_dir
        self.config = config
        self._node_cache = NodeCache()

    @classmethod
    def open(cls, settings: Settings) -> Ledger:
        """Open (creating the tables on first use); needs no signing key, so read-only users can open it too."""
        return cls(settings.ledger_db, settings.ledger_keys_dir, settings.ledger).created()

    def created(self) -> Ledger:
        """This ledger, its tables created on first use."""
        if not self._has_schema():
            with self._write() as con:
                con.execute(_SCHEMA)
        return self

    def _has_schema(self) -> bool:
        if not self.db_path.exists():
            return False
        with self._read() as reader:
            tables = reader.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'head'").fetchall()[0]
            return tables[0] == 1

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.db_path, write=True, timeout=self.config.lock_timeout_seconds) as con:
            con.begin()
            yield con
            con.commit()

    @contextmanager
    def _read(self) -> Iterator[LedgerReader]:
        with connect(self.db_path, write=False, timeout=self.config.lock_timeout_seconds) as con:
            yield LedgerReader(con, self._node_cache)

    reader = _read  # public: several lookups under one shared lock (reports generating many proofs)

    @property
    def checkpoint_copy_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".checkpoints")

    @property
    def _signing_key(self) -> SigningKey:
        """Read at every signing, not cached: a key file removed or widened mid-run stops the signing at once."""
        return load_signing_key(signing_key_path(self.keys_dir))

    # ------------------------------------------------------------------ writing

    def append(self, kind: str, *, doc: str | None, actor: str, data: dict[str, Any]) -> int:
        return self.append_many([EntryDraft(kind, doc, actor, data)])[0]

    def append_many(self, drafts: list[EntryDraft]) -> list[int]:
        """Append all drafts in ONE transaction (all or none); sign a checkpoint if one is due.

        Opens and closes its own connection: right for occasional writers. A process that appends batch
        after batch (the worker) should use ``writer()``, which keeps the connection between batches.
        """
        with self.writer(sign_on_close=False) as writer:
            return writer.append_many(drafts)

    def append_with(self, build: Callable[[LedgerReader], list[EntryDraft]]) -> tuple[list[int], str | None]:
        """Read, decide and append in ONE write transaction, then sign a checkpoint over it; (seqs, new note).

        For appends that depend on what the ledger already holds (the anchor folds a shard checkpoint in
        only if it extends the one anchored last): under the exclusive lock nobody appends in between.
        """
        with self._write() as con:
            drafts = build(LedgerReader(con))
            check_drafts(drafts)
            seqs = self._append_locked(con, drafts) if drafts else []
            note = self._checkpoint_locked(con)
        self._copy_checkpoints([note] if note else [])
        self._offer_to_witnesses()
        return seqs, note

    def writer(self, *, sign_on_close: bool = True) -> LedgerWriter:
        """A bulk-writer session for a single-owner writer; see ``LedgerWriter``."""
        return LedgerWriter(self, sign_on_close=sign_on_close)

    def _append_locked(self, con: duckdb.DuckDBPyConnection, drafts: list[EntryDraft]) -> list[int]:
        size, last_leaf, border = con.execute("SELECT size, last_leaf, border FROM head").fetchall()[0]
        prev = (bytes(last_leaf).hex() if last_leaf is not None else ZERO_HASH_HEX).encode()
        bodies, leaves = encode_entries(size, prev, _utc_now(), drafts)
        completed, new_border = merkle.extend(size, split_border(bytes(border)), leaves)
        new_size = size + len(drafts)
        new_entries = {
            "seq": np.arange(size, new_size, dtype=np.int64),
            "body": np.array(bodies, dtype=object),
            "kind": np.array([draft.kind for draft in drafts], dtype=object),
            "doc": np.array([draft.doc for draft in drafts], dtype=object),
        }
        con.register("new_entries", new_entries)
        con.register("new_nodes", _node_columns(completed))
        con.execute("INSERT INTO entries SELECT seq, body::BLOB, kind, doc FROM new_entries")
        con.execute("INSERT INTO nodes SELECT pos, level, hash::BLOB FROM new_nodes ORDER BY pos")
        con.unregister("new_entries")
        con.unregister("new_nodes")
        con.execute("UPDATE head SET size = ?, last_leaf = ?, border = ?", [new_size, leaves[-1], b"".join(new_border)])
        return list(range(size, new_size))

    def checkpoint(self) -> str:
        """Sign a checkpoint now if entries are unsigned; return the latest checkpoint note."""
        latest = self.sign_pending()[1]
        if latest is None:
            raise LedgerError("the ledger is empty; there is nothing to sign")
        return latest

    def sign_pending(self) -> tuple[str | None, str | None]:
        """Sign the entries no checkpoint covers yet, if any, and offer the latest checkpoint to the witnesses
        (``ledger.witnessing``; one that failed lately is skipped until its backoff ends):
        (the new note or None, the latest note or None)."""
        with self._write() as con:
            size, checkpoint_size = con.execute("SELECT size, checkpoint_size FROM head").fetchall()[0]
            note = self._checkpoint_locked(con) if size > checkpoint_size else None
            latest = note or LedgerReader(con).latest_checkpoint()
        self._copy_checkpoints([note] if note else [])
        self._offer_to_witnesses()
        return note, latest

    def _offer_to_witnesses(self) -> None:
        """The latest checkpoint to the ``[ledger] witnesses`` (those in backoff are skipped; never raises for
        a witness that is down or refuses: ``ledger.witnessing`` records that)."""
        if self.config.witnesses:
            from ledger.witnessing import submit  # builds on this module

            submit(self)

    def _checkpoint_if_due(self, con: duckdb.DuckDBPyConnection) -> str | None:
        size, checkpoint_size, checkpoint_at = con.execute(
            "SELECT size, checkpoint_size, checkpoint_at FROM head"
        ).fetchall()[0]
        unsigned = size - checkpoint_size
        due = unsigned >= self.config.checkpoint_every or (
            unsigned > 0 and time.time() - checkpoint_at >= self.config.checkpoint_seconds
        )
        return self._checkpoint_locked(con) if due else None

    def _checkpoint_locked(self, con: duckdb.DuckDBPyConnection, key: SigningKey | None = None) -> str | None:
        """Prove the new tree consistent with the last checkpoint, then sign and store it."""
        size, checkpoint_size, active_key, border = con.execute(
            "SELECT size, checkpoint_size, active_key, border FROM head"
        ).fetchall()[0]
        if size == checkpoint_size:
            return None
        reader = LedgerReader(con)
        root = merkle.root_of(split_border(bytes(border)))
        previous = reader.latest_checkpoint()
        if previous is not None:
            old = Checkpoint.parse(split_note(previous)[0])
            try:
                merkle.verify_consistency(old.size, size, reader.consistency_proof(old.size, size), old.root, root)
            except VerifyError as exc:
                raise LedgerError(
                    f"refusing to sign: tree of {size} is not consistent with checkpoint {old.size}: {exc}"
                ) from None
        expected = active_key or str(load_anchor(self.keys_dir))
        key = key or self._key_in_force(expected)
        body = Checkpoint(self.config.origin, size, root).body()
        note = sign_note(body, key)
        now = time.time()
        con.execute("INSERT INTO checkpoints VALUES (?, ?, ?)", [size, now, note])
        con.execute("UPDATE head SET checkpoint_size = ?, checkpoint_at = ?, active_key = ?", [size, now, expected])
        return note

    def _key_paths(self) -> tuple[Path, Path]:
        """The signing key file and where a rotation stages its successor."""
        current = signing_key_path(self.keys_dir)
        return current, current.with_name(current.name + ".next")

    def _key_in_force(self, expected: str) -> SigningKey:
        """The signing key, finishing a rotation that crashed after its commit but before its file move."""
        key = self._signing_key
        if str(key.verifier) == expected:
            return key
        current_path, next_path = self._key_paths()
        if next_path.exists() and str(load_signing_key(next_path).verifier) == expected:
            os.replace(next_path, current_path)
            return self._signing_key
        raise LedgerError("the signing key on disk is not the key in force for this ledger")

    def _copy_checkpoints(self, notes: list[str]) -> None:
        if not notes:
            return
        with self.checkpoint_copy_path.open("a", encoding="utf-8") as handle:
            for note in notes:
                handle.write(json.dumps({"note": note}) + "\n")

    def copied_checkpoints(self) -> list[str]:
        if not self.checkpoint_copy_path.exists():
            return []
        lines = self.checkpoint_copy_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["note"] for line in lines if line.strip()]

    # ------------------------------------------------------------------ reading

    def size(self) -> int:
        with self._read() as reader:
            return reader.size()

    def entries(self, start: int = 0, stop: int | None = None, chunk: int = 10_000) -> Iterator[Entry]:
        """Entries ``start <= seq < stop`` (stop: the size when iteration starts).

        Each chunk is read under its own short shared lock and no lock is held between chunks, so a slow
        consumer never blocks writers; entries never change once written, so the chunks are consistent.
        """
        if stop is None:
            stop = self.size()
        for low in range(start, stop, chunk):
            with self._read() as reader:
                batch = list(reader.entries(low, min(low + chunk, stop)))
            yield from batch

    def entries_for_doc(self, doc: str) -> list[Entry]:
        with self._read() as reader:
            return reader.entries_for_doc(doc)

    def entries_for_docs(self, docs: list[str]) -> list[Entry]:
        with self._read() as reader:
            return reader.entries_for_docs(docs)

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        with self._read() as reader:
            return reader.inclusion_proof(seq, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self._read() as reader:
            return reader.consistency_proof(old_size, new_size)

    def root(self, size: int | None = None) -> bytes:
        with self._read() as reader:
            return reader.root(reader.size() if size is None else size)

    def latest_checkpoint(self) -> str | None:
        with self._read() as reader:
            return reader.latest_checkpoint()

    def checkpoints(self) -> list[str]:
        with self._read() as reader:
            return reader.checkpoints()

    def verifier_key(self) -> str:
        """The key that signs new checkpoints (after rotations, not the anchor)."""
        with self._read() as reader:
            active = reader.con.execute("SELECT active_key FROM head").fetchall()[0][0]
        return active or str(load_anchor(self.keys_dir))

    def key_history(self) -> list[str]:
        with self._read() as reader:
            return reader.key_history(load_anchor(self.keys_dir))

    def verify(self) -> VerifyReport:
        from ledger.verify import verify_ledger  # verify builds on this module; import at use to avoid a cycle

        return verify_ledger(self)

    def export(self, directory: Path) -> None:
        from ledger.export import export_bundle

        export_bundle(self, directory)

    # ------------------------------------------------------------------ keys

    def rotate_key(self, actor: str, consent: Callable[[str, str], dict[str, Any]] | None = None) -> int:
        """Hand signing over to a new key; returns the seq of the ``key.rotated`` entry.

        ``consent(old, new)`` (both note verifier keys) returns the statement and signature of the person who
        ordered the rotation, to ledger with it; it runs before anything is written and raises to refuse.
        Without it the entry names nobody's signature, which people-verification rejects (ledger tests only).
        Pending entries are signed by the old key first; the handover note (both keys, signed by both) is
        appended; the checkpoint covering it is signed by the new key. The new key is written to
        ``ledger.key.next`` before the transaction and moved over ``ledger.key`` after it, so a crash at
        any point leaves either the old key in force with its file, or the new one with ``.next`` to finish.
        """
        old_key = self._signing_key
        new_key = SigningKey.generate(old_key.name)
        old, new = str(old_key.verifier), str(new_key.verifier)
        signed = consent(old, new) if consent is not None else {}
        current_path, next_path = self._key_paths()
        write_new_key(next_path, new_key)
        handover = sign_note(handover_text(old, new), old_key, new_key)
        payload = KeyRotatedPayload(old_key=old, new_key=new, handover=handover, **signed)
        draft = EntryDraft(KEY_ROTATED, None, actor, payload.model_dump())
        try:
            with self._write() as con:
                pending = self._checkpoint_locked(con, old_key)
                (seq,) = self._append_locked(con, [draft])
                con.execute("UPDATE head SET active_key = ?", [new])
                final = self._checkpoint_locked(con, new_key)
        except BaseException:
            next_path.unlink(missing_ok=True)
            raise
        os.replace(next_path, current_path)
        self._copy_checkpoints([note for note in (pending, final) if note])
        self._offer_to_witnesses()  # refused (403) until the witness is given the new key: shown as not cosigned
        return seq
