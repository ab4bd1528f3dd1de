"""The ledger in DuckDB: entries, complete-subtree hashes, signed checkpoints.

Tables: ``entries`` (seq, canonical bytes, kind, doc), ``nodes`` (post-order
position, level, hash of a complete subtree, leaves included), ``checkpoints``
(every signed note ever written) and ``head`` (one row: size, last leaf, the
right border of the tree, last checkpoint, key in force). Nodes are keyed by
post-order position because that is the order appends complete them: inserts
stay sorted, DuckDB's min/max zone maps find a position range without an index
(indexes made appends slower and file opens slower), and the nodes below any
complete subtree are one contiguous range. An append reads only ``head``.

A proof needs O(log n) nodes. Nodes at level >= ``CACHED_LEVEL`` (1 in 64)
are kept in a per-``Ledger`` cache — a complete subtree's hash never changes,
so the cache can only be incomplete, never stale — the low nodes of the last,
partial block come from ``head.border``, and the rest from the contiguous
position range of the 64-leaf block around the leaf: one small query per
proof, because every DuckDB query costs a good part of a millisecond however
little it reads.
Hashes are stored uncompressed: they are random, and DuckDB's compression
analysis of them cost 15-25 % of each append's commit for nothing.

Every operation opens a short-lived connection through ``docval.db.connect``:
writers hold the exclusive file lock for one transaction, so several processes
may append, a SIGKILL mid-batch leaves all or nothing, and readers (reports,
verify) get in between batches. The one exception is ``LedgerWriter``, a
single-owner writer's session that keeps its connection for at most
``writer_hold_seconds`` at a time (still one transaction per batch). Every checkpoint is also appended to
``ledger.duckdb.checkpoints`` beside the database: a copy outside the file an
attacker would have to roll back, which ``verify`` checks the log against.
"""

from __future__ import annotations

import json
import os
import threading
import time
from binascii import hexlify
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import orjson

from docval.db import connect
from docval.events import EntryKind, KeyRotatedPayload
from docval.settings import LedgerSettings, Settings
from ledger import merkle
from ledger.bundle_verify import ZERO_HASH_HEX, Checkpoint, VerifierKey, VerifyError, handover_text, split_note
from ledger.canonical import canonical_json
from ledger.errors import LedgerError
from ledger.keys import SigningKey, load_anchor, load_signing_key, sign_note, signing_key_path, write_new_key

if TYPE_CHECKING:
    from ledger.verify import VerifyReport

__all__ = ["Entry", "EntryDraft", "Ledger", "LedgerReader", "LedgerWriter"]

KEY_ROTATED = EntryKind.KEY_ROTATED.value

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


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry before the ledger gives it a seq, a prev and a timestamp."""

    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored entry: its fields, its exact canonical bytes (what is hashed and exported) and leaf hash."""

    seq: int
    prev: str
    ts: str
    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any]
    canonical: bytes
    leaf_hash: bytes

    @classmethod
    def from_canonical(cls, body: bytes) -> Entry:
        value = orjson.loads(body)
        return cls(
            value["seq"], value["prev"], value["ts"], value["kind"], value["doc"], value["actor"], value["data"],
            body, merkle.leaf_hash(body),
        )  # fmt: skip


def _split_border(joined: bytes) -> list[bytes]:
    """``head.border``: the right border's subtree roots, largest first, concatenated."""
    return [joined[i : i + 32] for i in range(0, len(joined), 32)]


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


def _check_drafts(drafts: list[EntryDraft]) -> None:
    for draft in drafts:
        _check_draft(draft)
        if draft.kind == KEY_ROTATED:
            raise LedgerError("key.rotated entries are written only by `docval keys rotate`")


def _check_draft(draft: EntryDraft) -> None:
    if not isinstance(draft.kind, str) or not draft.kind:
        raise LedgerError("entry kind must be a non-empty string")
    if not isinstance(draft.actor, str) or not draft.actor:
        raise LedgerError(f"{draft.kind}: actor must be a non-empty string")
    if draft.doc is not None and not isinstance(draft.doc, str):
        raise LedgerError(f"{draft.kind}: doc must be a string or None")
    if not isinstance(draft.data, dict):
        raise LedgerError(f"{draft.kind}: data must be an object")


def _draft_prefix(draft: EntryDraft) -> bytes:
    """The canonical bytes of the fields a draft fixes, up to ``"prev":"``.

    RFC 8785 orders the envelope's ASCII keys actor, data, doc, kind, prev, seq, ts, so the canonical
    envelope is the canonical object of the first four with its closing brace replaced by the rest, which
    is plain ASCII (``test_canonical`` checks the result against ``rfc8785.dumps`` of the whole envelope).
    """
    fixed = {"actor": draft.actor, "data": draft.data, "doc": draft.doc, "kind": draft.kind}
    try:
        return canonical_json(fixed)[:-1] + b',"prev":"'
    except Exception as exc:  # rfc8785 raises its own types for floats out of range, bad keys, ...
        raise LedgerError(f"{draft.kind}: data is not canonical-JSON serialisable ({type(exc).__name__})") from None


def encode_entries(first_seq: int, prev: bytes, ts: str, drafts: list[EntryDraft]) -> tuple[list[bytes], list[bytes]]:
    """Canonical bytes and leaf hashes of consecutive entries; ``prev`` is the hex leaf hash before them.

    The loop every appended entry pays for, so it only formats and hashes: seq, prev and ts are ASCII that
    needs no escaping, and the leaf hash (SHA-256 of 0x00 || bytes) is inlined.
    """
    suffix = b'","seq":%d,"ts":"' + ts.encode() + b'"}'
    bodies, leaves = [], []
    for seq, prefix in enumerate(map(_draft_prefix, drafts), start=first_seq):
        body = b"%b%b%b" % (prefix, prev, suffix % seq)
        leaf = sha256(b"\0" + body).digest()
        bodies.append(body)
        leaves.append(leaf)
        prev = hexlify(leaf)
    return bodies, leaves


CACHED_LEVEL = 6
_YIELD_SECONDS = 0.02  # > docval.db's lock poll interval, so a waiting reader sees the lock free
_WAL_LIMIT = "1GB"  # far above what one hold writes: the release writes the WAL out, not each commit


class NodeCache:
    """Hashes of complete subtrees at level >= ``CACHED_LEVEL``, filled from the database as proofs need them."""

    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}
        self.next_pos = 0

    def refresh(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT pos, hash FROM nodes WHERE pos >= ? AND level >= ?", [self.next_pos, CACHED_LEVEL]
        ).fetchall()
        self.hashes.update((pos, bytes(value)) for pos, value in rows)
        if rows:
            self.next_pos = max(pos for pos, _ in rows) + 1


class LedgerReader:
    """Queries on one open connection: a consistent view for as many lookups as the caller needs.

    ``cache`` must be None inside a write transaction: nodes read there may still be rolled back, and
    the head changes.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, cache: NodeCache | None = None) -> None:
        self.con = con
        self.cache = cache

    @cached_property
    def _head(self) -> tuple[int, dict[merkle.Node, bytes]]:
        """Size and right border, read once: under the shared lock no writer can change them."""
        size, border = self.con.execute("SELECT size, border FROM head").fetchall()[0]
        return size, dict(zip(merkle.border_nodes(size), _split_border(bytes(border)), strict=True))

    def size(self) -> int:
        return self._head[0]

    def node_hashes(self, nodes: set[merkle.Node]) -> dict[merkle.Node, bytes]:
        wanted = {merkle.node_position(level, index): (level, index) for level, index in nodes}
        found: dict[int, bytes] = {}
        if self.cache is not None:
            border = self._head[1]  # the low nodes of the last, partial block: no query needed
            found.update((pos, border[node]) for pos, node in wanted.items() if node in border)
            upper = [pos for pos, (level, _) in wanted.items() if level >= CACHED_LEVEL and pos not in found]
            if any(pos not in self.cache.hashes for pos in upper):
                self.cache.refresh(self.con)
            found.update((pos, self.cache.hashes[pos]) for pos in upper if pos in self.cache.hashes)
            found.update(self._fetch_blocks([node for pos, node in wanted.items() if pos not in found]))
        elif wanted:
            rows = self.con.execute(
                "SELECT pos, hash FROM nodes WHERE pos IN (SELECT unnest($1::BIGINT[]))", [list(wanted)]
            ).fetchall()
            found.update((pos, bytes(value)) for pos, value in rows)
        if len(found) < len(wanted):
            raise LedgerError("the ledger's node table is incomplete; run `docval ledger verify`")
        return {wanted[pos]: found[pos] for pos in wanted}

    def _fetch_blocks(self, nodes: list[merkle.Node]) -> dict[int, bytes]:
        """Low nodes by the contiguous position range of their 64-leaf block (one query for all blocks).

        Nodes are appended in position order and never deleted, so a node's row number is normally its
        position, and DuckDB fetches a row-number range directly where a ``pos`` range scans the column.
        The rows' own ``pos`` decides what they are; if row numbers ever drifted from positions, the
        missing nodes are looked up by ``pos`` instead, so a drift costs speed, never correctness.
        """
        blocks = sorted({(index << level) >> CACHED_LEVEL for level, index in nodes})
        if not blocks:
            return {}
        span = (2 << CACHED_LEVEL) - 2  # nodes of a complete block below its root
        starts = [merkle.node_position(0, block << CACHED_LEVEL) for block in blocks]
        condition = " OR ".join(["rowid BETWEEN ? AND ?"] * len(starts))
        bounds = [bound for start in starts for bound in (start, start + span - 1)]
        wanted = {merkle.node_position(level, index) for level, index in nodes}
        rows = self.con.execute(f"SELECT pos, hash FROM nodes WHERE {condition}", bounds).fetchall()
        found = {pos: bytes(value) for pos, value in rows if pos in wanted}
        if len(found) < len(wanted):
            rows = self.con.execute(
                "SELECT pos, hash FROM nodes WHERE pos IN (SELECT unnest($1::BIGINT[]))", [list(wanted - found.keys())]
            ).fetchall()
            found.update((pos, bytes(value)) for pos, value in rows)
        return found

    def proof(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        return merkle.assemble(ranges, self.node_hashes(merkle.nodes_for(ranges)))

    def root(self, size: int) -> bytes:
        nodes = merkle.border_nodes(size)
        hashes = self.node_hashes(set(nodes))
        return merkle.root_of([hashes[node] for node in nodes])

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        size = self.size() if size is None else size
        self._check_size(size)
        try:
            return self.proof(merkle.inclusion_ranges(seq, size))
        except ValueError as exc:
            raise LedgerError(str(exc)) from None

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        self._check_size(new_size)
        try:
            return self.proof(merkle.consistency_ranges(old_size, new_size))
        except ValueError as exc:
            raise LedgerError(str(exc)) from None

    def _check_size(self, size: int) -> None:
        if size > self.size():
            raise LedgerError(f"the ledger has {self.size()} entries, not {size}")

    def latest_checkpoint(self) -> str | None:
        rows = self.con.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchall()
        return rows[0][0] if rows else None

    def checkpoints(self) -> list[str]:
        return [row[0] for row in self.con.execute("SELECT note FROM checkpoints ORDER BY size").fetchall()]

    def entries(self, start: int = 0, stop: int | None = None, batch: int = 10_000) -> Iterator[Entry]:
        stop = self.size() if stop is None else min(stop, self.size())
        for low in range(start, stop, batch):
            rows = self.con.execute(
                "SELECT body FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq", [low, min(low + batch, stop)]
            ).fetchall()
            for (body,) in rows:
                yield Entry.from_canonical(bytes(body))

    def entries_for_doc(self, doc: str) -> list[Entry]:
        rows = self.con.execute("SELECT body FROM entries WHERE doc = ? ORDER BY seq", [doc]).fetchall()
        return [Entry.from_canonical(bytes(body)) for (body,) in rows]

    def entries_of_kind(self, kinds: list[str]) -> list[Entry]:
        """Every entry of these kinds in seq order (enrolment history, without reading the whole ledger)."""
        rows = self.con.execute("SELECT body FROM entries WHERE list_contains(?, kind) ORDER BY seq", [kinds])
        return [Entry.from_canonical(bytes(body)) for (body,) in rows.fetchall()]

    def key_history(self, anchor: VerifierKey, size: int | None = None) -> list[str]:
        """The anchor, then every key a ``key.rotated`` entry (of the first ``size``) hands over to, oldest first."""
        rows = self.con.execute(
            "SELECT body FROM entries WHERE kind = ? AND seq < ? ORDER BY seq",
            [KEY_ROTATED, self.size() if size is None else size],
        ).fetchall()
        return [str(anchor), *(Entry.from_canonical(bytes(body)).data["new_key"] for (body,) in rows)]


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
            _check_drafts(drafts)
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
        completed, new_border = merkle.extend(size, _split_border(bytes(border)), leaves)
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
        root = merkle.root_of(_split_border(bytes(border)))
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


class LedgerWriter:
    """Appends batch after batch on one held connection, giving the lock up every ``writer_hold_seconds``.

    Opening the database and closing it (when DuckDB writes the batch from its WAL into the file) cost
    more than the batch itself once the file is large, so a single-owner writer keeps the exclusive lock
    and one connection across batches. Each batch is still its own transaction (a SIGKILL leaves whole
    batches), and the session lets go of the lock after any batch that ends ``writer_hold_seconds`` after
    it was taken — or, if the owner is busy elsewhere, as soon as the hold is over (a timer thread) — then
    waits a moment before taking it again, so readers (verify, reports) and occasional writers polling for
    it get in; nobody waits longer than about one hold plus one batch.
    WAL checkpoints are left to the release (``checkpoint_threshold``), so data is written out once per
    hold, not whenever the WAL passes DuckDB's 16 MB default. Closing the session signs the entries no
    checkpoint covers yet (``sign_on_close``), the "on shutdown" checkpoint. With ``[ledger] witnesses``,
    each release offers the hold's latest checkpoint to the witnesses (it extends every one before it), so
    witnessing costs one exchange per hold, not one per checkpoint, and never runs under the file lock.
    """

    def __init__(self, ledger: Ledger, *, sign_on_close: bool = True) -> None:
        self.ledger = ledger
        self.sign_on_close = sign_on_close
        self._session: ExitStack | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._held_since = 0.0
        self._released_at = float("-inf")
        self._busy = threading.Lock()  # the owner's work and the idle timer's release never overlap
        self._idle_timer: threading.Timer | None = None
        self._signed = False  # a checkpoint was signed in this hold: offer it to the witnesses on release

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.close()
        else:
            self.release()

    def close(self) -> None:
        """End the session: sign what is unsigned (if ``sign_on_close``), then release."""
        try:
            if self.sign_on_close:
                self.checkpoint()
        finally:
            self.release()

    def append_many(self, drafts: list[EntryDraft]) -> list[int]:
        """Append all drafts in ONE transaction (all or none); sign a checkpoint if one is due."""
        _check_drafts(drafts)
        if not drafts:
            return []
        with self._busy:
            con = self._connection()
            try:
                con.begin()
                seqs = self.ledger._append_locked(con, drafts)
                note = self.ledger._checkpoint_if_due(con)
                con.commit()
            except BaseException:
                self._release_locked()  # closing rolls the open transaction back
                raise
            self.ledger._copy_checkpoints([note] if note else [])
            self._signed |= note is not None
            if time.monotonic() - self._held_since >= self.ledger.config.writer_hold_seconds:
                self._release_locked()
        return seqs

    def checkpoint(self) -> str | None:
        """Sign the entries no checkpoint covers yet, on the held connection; the new note or None."""
        with self._busy:
            con = self._connection()
            try:
                con.begin()
                note = self.ledger._checkpoint_locked(con)
                con.commit()
            except BaseException:
                self._release_locked()
                raise
            self.ledger._copy_checkpoints([note] if note else [])
            self._signed |= note is not None
        return note

    def release(self) -> None:
        """Close the connection (DuckDB writes the WAL out) and let go of the lock; appends take it again."""
        with self._busy:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._session is not None:
            offers = self._witness_offers()
            session, self._session, self._con = self._session, None, None
            session.close()
            self._released_at = time.monotonic()
            if offers:
                from ledger.witnessing import send  # builds on this module

                send(self.ledger, offers)  # over HTTP, with the file lock already let go

    def _witness_offers(self) -> list[Any]:
        """The hold's latest checkpoint for the witnesses, read on the held connection (it extends the ones
        before it, so one exchange per hold covers them all)."""
        signed, self._signed = self._signed, False
        if not (signed and self.ledger.config.witnesses and self._con is not None):
            return []
        from ledger.witnessing import prepare  # builds on this module

        try:
            return prepare(self.ledger, LedgerReader(self._con))
        except (LedgerError, duckdb.Error):
            return []  # e.g. released mid-transaction; the next checkpoint or sign_pending offers it

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            pause = self._released_at + _YIELD_SECONDS - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # readers poll the lock; give them a turn before taking it again
            with ExitStack() as session:
                con = session.enter_context(
                    connect(self.ledger.db_path, write=True, timeout=self.ledger.config.lock_timeout_seconds)
                )
                con.execute(f"SET checkpoint_threshold = '{_WAL_LIMIT}'")
                self._session, self._con = session.pop_all(), con
                self._held_since = time.monotonic()
            self._idle_timer = threading.Timer(self.ledger.config.writer_hold_seconds, self._release_if_idle)
            self._idle_timer.daemon = True
            self._idle_timer.start()
        return self._con

    def _release_if_idle(self) -> None:
        """Timer thread: an owner busy with its own work must not keep readers out past the hold."""
        if self._busy.acquire(blocking=False):  # if a batch is running, it releases when it ends
            try:
                self._release_locked()
            finally:
                self._busy.release()
