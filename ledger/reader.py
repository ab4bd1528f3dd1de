"""Queries on one open ledger connection: sizes, node hashes, proofs, checkpoints and entries.

A proof needs O(log n) nodes. Nodes at level >= ``CACHED_LEVEL`` (1 in 64)
are kept in a per-``Ledger`` cache — a complete subtree's hash never changes,
so the cache can only be incomplete, never stale — the low nodes of the last,
partial block come from ``head.border``, and the rest from the contiguous
position range of the 64-leaf block around the leaf: one small query per
proof, because every DuckDB query costs a good part of a millisecond however
little it reads. The tables are described in ``ledger.log``, which opens the
connections; this module only reads through one.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import duckdb

from ledger import merkle
from ledger.bundle_verify import VerifierKey
from ledger.entries import KEY_ROTATED, Entry
from ledger.errors import LedgerError

__all__ = ["CACHED_LEVEL", "LedgerReader", "NodeCache", "split_border"]

CACHED_LEVEL = 6


def split_border(joined: bytes) -> list[bytes]:
    """``head.border``: the right border's subtree roots, largest first, concatenated."""
    return [joined[i : i + 32] for i in range(0, len(joined), 32)]


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
        return size, dict(zip(merkle.border_nodes(size), split_border(bytes(border)), strict=True))

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

    def entries_for_docs(self, docs: list[str]) -> list[Entry]:
        """Every entry of these documents in seq order: one query for a batch (an open costs more than a read)."""
        rows = self.con.execute("SELECT body FROM entries WHERE list_contains(?, doc) ORDER BY seq", [docs])
        return [Entry.from_canonical(bytes(body)) for (body,) in rows.fetchall()]

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
