"""RFC 9162 §2.1 Merkle tree math, pure and storage-free (after sigstore-python's ``_internal/merkle.py``).

Proof generation is expressed over *complete subtrees* — node ``(level, index)``
covers leaves ``[index * 2**level, (index + 1) * 2**level)`` — because those are
the only hashes that never change once written. Any range the RFC's PATH and
SUBPROOF algorithms ask for is a short run of complete subtrees, so a caller
that stores complete subtrees answers a proof with O(log n) lookups: first ask
which nodes a proof needs (``*_nodes``), fetch them in one go, then assemble.

Hashing and proof *verification* live in ``bundle_verify`` (re-exported here)
because auditors run that file on its own; keeping one copy means the code
that checks exports is the code the tests check against the RFC vectors.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.bundle_verify import (
    EMPTY_ROOT,
    TreeBuilder,
    VerifyError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Node",
    "TreeBuilder",
    "VerifyError",
    "assemble",
    "border_nodes",
    "consistency_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "node_position",
    "nodes_for",
    "position_node",
    "range_nodes",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)


def _split(size: int) -> int:
    """Largest power of two strictly smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form the inclusion proof of ``index`` in a tree of ``size`` (RFC 9162 PATH)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # PATH lists siblings from the leaf upwards
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The leaf ranges of the consistency proof from ``old_size`` to ``new_size`` (RFC 9162 SUBPROOF)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    ranges: list[Range] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    ranges.reverse()
    return ranges


def range_nodes(start: int, end: int) -> list[Node]:
    """Complete subtrees covering ``[start, end)`` left to right; the RFC's ranges always decompose this way."""
    nodes: list[Node] = []
    while start < end:
        level = min((start & -start).bit_length() - 1 if start else 63, (end - start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def border_nodes(size: int) -> list[Node]:
    """The complete subtrees of a tree of ``size`` leaves, largest first: what an append builds on."""
    return range_nodes(0, size)


def nodes_for(ranges: list[Range]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def assemble(ranges: list[Range], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """Proof hashes from the fetched complete subtrees (one hash per range)."""
    return [root_of([hashes[node] for node in range_nodes(start, end)]) for start, end in ranges]


def root_of(subtree_roots: list[bytes]) -> bytes:
    """Root of a tree given its complete subtrees largest first (fold from the right)."""
    return TreeBuilder(border=list(subtree_roots)).root()


def node_position(level: int, index: int) -> int:
    """Post-order number of a node: the order in which appends complete nodes, hence their storage key.

    Before leaf ``m - 1`` is appended the tree holds ``2(m-1) - popcount(m-1)`` nodes; appending it
    completes the leaf and then one node per level up to ``level``.
    """
    before = ((index + 1) << level) - 1
    return 2 * before - before.bit_count() + level


def position_node(position: int) -> Node:
    """Inverse of ``node_position`` (used to name the leaf range a bad stored node covers)."""
    low, high = 0, position + 1  # the node's last leaf index is below position + 1
    while low < high:  # smallest leaf count m whose nodes reach past position
        mid = (low + high) // 2
        if 2 * (mid + 1) - (mid + 1).bit_count() > position:
            high = mid
        else:
            low = mid + 1
    leaf = low
    level = position - (2 * leaf - leaf.bit_count())
    return level, ((leaf + 1) >> level) - 1
