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
    VerifyError,
    border_nodes,
    leaf_hash,
    node_hash,
    root_from_border,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Level",
    "Node",
    "VerifyError",
    "assemble",
    "border_nodes",
    "consistency_ranges",
    "extend",
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


def nodes_for(ranges: list[Range]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def assemble(ranges: list[Range], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """Proof hashes from the fetched complete subtrees (one hash per range)."""
    return [root_of([hashes[node] for node in range_nodes(start, end)]) for start, end in ranges]


root_of = root_from_border

Level = tuple[int, int, list[bytes]]  # (level, index of the first hash, hashes of consecutive nodes)


def extend(size: int, border: list[bytes], leaves: list[bytes]) -> tuple[list[Level], list[bytes]]:
    """Append ``leaves`` to a tree of ``size`` given its right ``border``: the newly complete nodes, level by
    level, and the new border. A level at a time, because hashing a list is several times faster in Python
    than walking a stack leaf by leaf.
    """
    old_border = dict(zip(border_nodes(size), border, strict=True))
    completed: list[Level] = []
    level, start, row = 0, size, leaves
    while row:
        completed.append((level, start, row))
        if start & 1:  # the first new node is a right child; its left sibling is on the old border
            row = [old_border[(level, start - 1)], *row]
            start -= 1
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level, start = level + 1, start >> 1

    def hash_of(level: int, index: int) -> bytes:
        if level < len(completed):
            _, first, values = completed[level]
            if first <= index < first + len(values):
                return values[index - first]
        return old_border[(level, index)]

    return completed, [hash_of(level, index) for level, index in border_nodes(size + len(leaves))]


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
