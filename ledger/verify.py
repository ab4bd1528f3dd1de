"""``docval ledger verify``: recompute everything from the stored entry bytes and name the first bad seq.

The entry walk (seq order, hash chain, key handovers) and the checkpoint check
are the ones the exported ``verify.py`` runs, imported from ``bundle_verify``.
On top, the in-place check compares every stored complete-subtree hash with
its recomputation (proofs are built from them, so a bad one would hand out
bad proofs) and checks the checkpoints in the checkpoint copy beside the
database, which catches a database restored to an earlier state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

from ledger import merkle
from ledger.bundle_verify import Checkpoint, Failure, LogState, VerifyError, check_checkpoint, split_note, walk_entries
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger

__all__ = ["VerifyReport", "verify_ledger"]


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    size: int
    checkpoints: int
    signed_size: int
    first_bad_seq: int | None = None
    check: str | None = None
    reason: str | None = None

    @property
    def unsigned(self) -> int:
        """Entries beyond the latest checkpoint: nothing signed commits to them, so anyone could edit them."""
        return max(self.size - self.signed_size, 0)

    def holds(self, *, allow_unsigned_tail: bool = False) -> bool:
        """Verified, and (unless allowed) no unsigned tail: an unsigned entry is no evidence of anything."""
        return self.ok and (allow_unsigned_tail or not self.unsigned)

    def summary(self, *, allow_unsigned_tail: bool = True) -> str:
        if self.ok and not allow_unsigned_tail and self.unsigned:
            return (
                f"FAILED unsigned tail at seq {self.signed_size}: {self.unsigned} entries beyond the latest checkpoint "
                "are not signed (run `docval ledger checkpoint`, or pass --allow-unsigned-tail)"
            )
        if self.ok:
            tail = f", {self.unsigned} newer entries not yet signed" if self.unsigned else ""
            return f"OK: {self.size} entries, {self.checkpoints} checkpoints verified{tail}"
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"FAILED {self.check}{where}: {self.reason}"


def verify_ledger(ledger: Ledger, anchored: list[str] | None = None) -> VerifyReport:
    """``anchored``: checkpoints of this ledger seen elsewhere (the root's copies of a shard's), checked like
    its own: each must be signed by the key in force at its size and be the root of a prefix of the log."""
    try:
        anchor = load_anchor(ledger.keys_dir)
    except LedgerError as exc:
        return VerifyReport(False, 0, 0, 0, None, "keys", str(exc))
    with ledger.reader() as reader:
        size = reader.size()
        notes = reader.checkpoints()
        bodies = _in_order(reader.con.execute("SELECT seq, body FROM entries").fetchnumpy(), "seq")["body"].tolist()
        stored = _in_order(reader.con.execute("SELECT pos, level, hash FROM nodes").fetchnumpy(), "pos")
    notes = list(dict.fromkeys([*notes, *ledger.copied_checkpoints(), *(anchored or [])]))
    state, failure = walk_entries(bodies, anchor, map(_size_of, notes), loads=orjson.loads)
    counted = VerifyReport(True, size, len(notes), max(map(_size_of, notes), default=0))
    failure = (
        failure
        or _check_count(state, size, len(bodies))
        or _check_stored_nodes(state, stored)
        or _check_checkpoints(notes, state, ledger.config.origin)
    )
    if failure:
        return VerifyReport(
            False, size, counted.checkpoints, counted.signed_size, failure.seq, failure.check, failure.reason
        )
    return counted


def _in_order(columns: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    """The rows sorted by ``key`` (what ``ORDER BY`` would give); rows come in append order, so this usually
    only checks, where DuckDB's ORDER BY would sort a million rows every time."""
    order = columns[key]
    if len(order) < 2 or bool(np.all(order[1:] > order[:-1])):
        return columns
    permutation = np.argsort(order, kind="stable")
    return {name: column[permutation] for name, column in columns.items()}


def _size_of(note: str) -> int:
    try:
        return Checkpoint.parse(split_note(note)[0]).size
    except VerifyError:
        return -1  # unparseable: the checkpoint check reports it


def _check_count(state: LogState, size: int, rows: int) -> Failure | None:
    if rows != size:
        return Failure("head", min(rows, size), f"head records {size} entries but {rows} rows exist")
    return None


def _check_stored_nodes(state: LogState, stored: dict[str, np.ndarray]) -> Failure | None:
    """Every stored complete-subtree hash must equal its recomputation, and positions must count 0, 1, 2, ..."""
    positions, levels, hashes = stored["pos"], stored["level"], stored["hash"]
    expected_count = sum(map(len, state.levels))
    if len(positions) != expected_count or not np.array_equal(positions, np.arange(len(positions))):
        gap = int(np.argmax(positions != np.arange(len(positions)))) if len(positions) else 0
        level, index = merkle.position_node(min(gap, expected_count) if len(positions) else 0)
        return Failure("stored tree", index << level, f"{len(positions)} nodes stored, {expected_count} expected")
    causes: list[tuple[int, int]] = []  # (first seq, level) of bad nodes whose children are fine
    below: set[int] = set()
    for level, recomputed in enumerate(state.levels):
        column = hashes[levels == level].tolist()
        differing = set() if column == recomputed else _differing(column, recomputed)
        causes += [
            (index << level, level)
            for index in differing
            if level == 0 or (2 * index not in below and 2 * index + 1 not in below)
        ]
        below = differing
    if not causes:
        return None
    seq, level = min(causes)
    what = "leaf hash" if level == 0 else f"hash of subtree {level}/{seq >> level}"
    return Failure("stored tree", seq, f"stored {what} differs from the recomputed one")


def _differing(stored: list[bytes], recomputed: list[bytes]) -> set[int]:
    if len(stored) != len(recomputed):
        return set(range(min(len(stored), len(recomputed)), max(len(stored), len(recomputed))))
    return {index for index, (a, b) in enumerate(zip(stored, recomputed, strict=True)) if a != b}


def _check_checkpoints(notes: list[str], state: LogState, origin: str) -> Failure | None:
    for note in notes:
        checkpoint, failure = check_checkpoint(note, state, origin)
        if failure:
            size = f"checkpoint of size {checkpoint.size}: " if checkpoint else "a checkpoint: "
            return Failure(failure.check, failure.seq, size + failure.reason)
    return None
