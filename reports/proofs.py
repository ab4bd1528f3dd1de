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

import base64

from ledger.bundle_verify import EMPTY_ROOT, TLOG_PROOF_HEADER, node_hash

__all__ = ["MemoryTree", "format_proof"]


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

    def audit_path(self, index: int) -> list[bytes]:
        """The RFC 9162 audit path of leaf ``index``: its sibling on each level that has one, bottom-up."""
        path: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


def format_proof(entry: bytes, index: int, path: list[bytes], checkpoint_note: str) -> bytes:
    """The C2SP tlog-proof of one entry, as the bytes of its file."""
    encoded = base64.b64encode
    lines = [TLOG_PROOF_HEADER.encode(), b"extra " + encoded(entry), b"index %d" % index, *map(encoded, path)]
    return b"\n".join(lines) + b"\n\n" + checkpoint_note.encode()
