"""Inclusion proofs for every document in scope, written as C2SP tlog-proof blocks.

The ledger answers one proof in O(log n) from its stored subtree hashes, but
a bundle needs hundreds of thousands of them at once, and one DuckDB query
each would dominate the report. So the bundle builds the RFC 9162 tree in
memory once, level by level from the exported entry bytes (a node without a
right sibling moves up unchanged, which yields exactly the RFC 9162 tree),
and reads each audit path off the levels.

``proofs/<doc>.proof`` holds one block per ledger entry of the document, in
seq order, blank-line separated; each block is a complete C2SP tlog-proof::

    c2sp.org/tlog-proof@v1
    extra <base64 of the exact entry bytes>
    index <seq>
    <base64 audit path hash, bottom-up> ...
    <blank line>
    <checkpoint signed note>

so the document's lineage is provable from that one file and the verifier key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from ledger.bundle_verify import EMPTY_ROOT, TLOG_PROOF_HEADER, leaf_hash, node_hash

__all__ = ["MemoryTree", "format_proof_block"]


class MemoryTree:
    """All levels of the RFC 9162 Merkle tree over ``entries`` (exact entry bytes), held in memory."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        level = [leaf_hash(entry) for entry in entries]
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

    def inclusion_path(self, index: int) -> list[bytes]:
        """Audit path of leaf ``index`` in the whole tree, bottom-up (RFC 9162 §2.1.3.1 order)."""
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


def format_proof_block(entry: bytes, index: int, path: list[bytes], checkpoint_note: str) -> str:
    lines = [TLOG_PROOF_HEADER, f"extra {base64.b64encode(entry).decode()}", f"index {index}"]
    lines.extend(base64.b64encode(node).decode() for node in path)
    return "\n".join(lines) + "\n\n" + checkpoint_note
