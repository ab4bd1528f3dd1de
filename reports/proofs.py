"""Inclusion proofs for every entry of every document in scope, as C2SP tlog-proofs.

The ledger answers one proof in O(log n) from its stored subtree hashes, but
a bundle needs proofs for hundreds of thousands of entries at once, and a
DuckDB query each would dominate the report. So the bundle builds the RFC 9162
tree in memory once, level by level from the exported entry bytes (a node
without a right sibling moves up unchanged, which yields exactly the RFC 9162
tree), and reads proofs off the levels.

``proofs/<doc>/<seq>.proof`` is the C2SP tlog-proof of one entry::

    c2sp.org/tlog-proof@v1
    extra <base64 of the exact bytes of the entry>
    index <seq>
    <base64 audit path hash> ...
    <blank line>
    <checkpoint signed note>

"""

from __future__ import annotations

from binascii import b2a_base64

from ledger.bundle_verify import EMPTY_ROOT, TLOG_PROOF_HEADER, node_hash

__all__ = ["MemoryTree", "ProofTexts"]

_SHARED_FROM_LEVEL = 5  # audit path lines from this level up are built once per 32 leaves and shared


class MemoryTree:
    """All levels of the RFC 9162 Merkle tree over the given leaf hashes, held in memory."""

    def __init__(self, leaves: list[bytes]) -> None:
        level = leaves
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            self.levels.append(paired)
            level = paired

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def audit_path(self, index: int, below: int | None = None) -> list[bytes]:
        """The RFC 9162 audit path of leaf ``index``: its sibling on each level that has one, bottom-up
        (with ``below``, only on the levels under that height)."""
        path: list[bytes] = []
        for level in self.levels[: len(self.levels) - 1 if below is None else below]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


class ProofTexts:
    """The bytes of each entry's tlog-proof file, built from text shared between neighbouring leaves.

    A bundle holds one proof per entry, ~720,000 at 100,000 documents, and leaves that share an ancestor
    share every audit-path line above it. So the upper part of the path (from ``_SHARED_FROM_LEVEL`` up) is
    encoded once per node of that level, as ready-made text, and each proof encodes only its few lowest
    siblings and its entry: what costs the report time is per-entry Python work, not the hashing.
    """

    def __init__(self, tree: MemoryTree, bodies: list[bytes], checkpoint_note: str) -> None:
        self._tree = tree
        self._bodies = bodies
        self._tail = b"\n" + checkpoint_note.encode()
        self._shared = min(_SHARED_FROM_LEVEL, len(tree.levels) - 1)
        self._upper = _upper_paths(tree.levels, self._shared)

    def proof(self, seq: int) -> bytes:
        """The C2SP tlog-proof of entry ``seq``: header, entry as ``extra``, ``index``, audit path, checkpoint."""
        lower = map(b2a_base64, self._tree.audit_path(seq, below=self._shared))
        head = (_HEAD, b2a_base64(self._bodies[seq]), b"index %d\n" % seq)
        return b"".join((*head, *lower, self._upper[seq >> self._shared], self._tail))


_HEAD = TLOG_PROOF_HEADER.encode() + b"\nextra "


def _upper_paths(levels: list[list[bytes]], start: int) -> list[bytes]:
    """For each node of level ``start``, the audit-path lines (base64, newline-ended) from there to the root."""
    paths = [b""]  # the root's level: nothing above it
    for height in range(len(levels) - 2, start - 1, -1):
        level = levels[height]
        count = len(level)
        paths = [(b2a_base64(level[node ^ 1]) if node ^ 1 < count else b"") + paths[node >> 1] for node in range(count)]
    return paths
