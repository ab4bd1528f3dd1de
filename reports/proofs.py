"""Inclusion proofs for every document in scope, written in C2SP tlog-proof style.

The ledger answers one proof in O(log n) from its stored subtree hashes, but
a bundle needs proofs for a hundred thousand documents at once, and a DuckDB
query each would dominate the report. So the bundle builds the RFC 9162 tree
in memory once, level by level from the exported entry bytes (a node without
a right sibling moves up unchanged, which yields exactly the RFC 9162 tree),
and reads proofs off the levels.

``proofs/<doc>.proof`` proves all of a document's entries at once::

    c2sp.org/tlog-proof@v1
    extra <base64 of the exact bytes of the document's first entry>
    extra <base64 of its next entry> ...
    index <seq of the first entry>
    index <seq of the next entry> ...
    <base64 proof hash> ...
    <blank line>
    <checkpoint signed note>

The hashes are a multi-leaf inclusion proof: per tree level, bottom-up and
left to right, the sibling of every node on a path from the listed leaves
that the verifier cannot compute itself. With one index this is exactly a
C2SP tlog-proof with its RFC 9162 audit path (one ``index`` line per entry,
rather than several numbers on one line, also keeps runs of seqs from
looking like card numbers to the PII leak scan); with a document's seven or so
neighbouring entries it shares the upper levels, so the file is about a
fifth of seven separate proofs, which keeps a 100,000-document bundle small.
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

    def multi_proof(self, indices: list[int]) -> list[bytes]:
        """Hashes proving the leaves at ``indices`` (strictly increasing) against the root; see module doc."""
        proof: list[bytes] = []
        known = indices
        for level in self.levels[:-1]:
            known_set = set(known)
            parents: list[int] = []
            for index in known:
                sibling = index ^ 1
                if sibling < len(level) and sibling not in known_set:
                    proof.append(level[sibling])
                if not parents or parents[-1] != index >> 1:
                    parents.append(index >> 1)
            known = parents
        return proof


def format_proof(entries: list[bytes], indices: list[int], proof: list[bytes], checkpoint_note: str) -> str:
    lines = [TLOG_PROOF_HEADER, *(f"extra {base64.b64encode(entry).decode()}" for entry in entries)]
    lines.extend(f"index {index}" for index in indices)
    lines.extend(base64.b64encode(node).decode() for node in proof)
    return "\n".join(lines) + "\n\n" + checkpoint_note
