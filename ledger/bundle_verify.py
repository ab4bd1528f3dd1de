#!/usr/bin/env python3
"""Verify a docval evidence bundle offline: ``python verify.py [BUNDLE_DIR] [--known-checkpoint FILE]``.

Needs only Python >= 3.11 and the ``cryptography`` package, so an auditor can
run it without installing docval or trusting its operator. It is one file on
purpose: docval copies it verbatim into every export as ``verify.py``, and
docval's own ``ledger verify`` imports its primitives so the bundle check and
the in-place check can never drift apart.

The bundle (DESIGN.md "Ledger format"): ``entries.jsonl`` (one RFC 8785 entry
per line), ``checkpoint`` (C2SP tlog-checkpoint in a C2SP signed note),
``ledger.vkey`` (note verifier keys, oldest first; the first line is the trust
anchor), ``manifest.json`` (SHA-256 of every file). Each check below prints one
verdict line; the exit status is 0 only if every check passes. A failure names
the first bad sequence number where one exists.

A log rolled back to an earlier, self-consistent state can only be caught
against a checkpoint seen before: pass it with ``--known-checkpoint``.

An installation with ledger shards (one per worker) exports each shard as a
folder ``shards/<name>/`` holding the same files as the root (entries.jsonl,
checkpoint, ledger.vkey, proofs/). The root's entries carry the
``anchor.checkpoint`` entries that fold the shards in: each shard must verify
on its own and its checkpoint must be the one the root's signed log anchored
last, so the root checkpoint commits to every shard. The completeness
statement then counts the documents of all the ledgers together.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ----------------------------------------------------------------------------- RFC 9162 §2.1 hashing

EMPTY_ROOT = hashlib.sha256(b"").digest()
ZERO_HASH_HEX = "0" * 64
_sha256 = hashlib.sha256


class VerifyError(Exception):
    """A proof, note or entry does not verify; the message says why."""


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def root_from_border(border: list[bytes]) -> bytes:
    """Root of a tree from its complete subtrees, largest first (RFC 9162 MTH folded from the right)."""
    if not border:
        return EMPTY_ROOT
    current = border[-1]
    for left in reversed(border[:-1]):
        current = node_hash(left, current)
    return current


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        raise VerifyError("index >= size")
    if len(leaf) != 32:
        raise VerifyError("bad leaf hash length")
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise VerifyError("proof too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("proof too short")
    if result != root:
        raise VerifyError("root mismatch")


def verify_consistency(size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 §2.1.4.2 (a proof from the empty tree is an error, as upstream treats it)."""
    if size2 < size1:
        raise VerifyError("size2 < size1")
    if size1 == 0:
        raise VerifyError("consistency from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise VerifyError("size1 == size2 but proof not empty")
        if root1 != root2:
            raise VerifyError("roots differ")
        return
    if not proof:
        raise VerifyError("empty proof")
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for sibling in path[1:]:
        if sn == 0:
            raise VerifyError("proof too long")
        if fn & 1 or fn == sn:
            first = node_hash(sibling, first)
            second = node_hash(sibling, second)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("proof too short")
    if first != root1:
        raise VerifyError("root1 mismatch")
    if second != root2:
        raise VerifyError("root2 mismatch")


# ----------------------------------------------------------------------------- C2SP signed-note, tlog-checkpoint

ALG_ED25519 = 0x01
_SIGNATURE_PREFIX = "\u2014 "  # em dash + space starts every signature line


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || pubkey), per the signed-note spec."""
    return _sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """``<name>+<8 hex key id>+<base64(0x01||pubkey)>``; the key id must match the key."""
        try:
            name, hex_id, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise VerifyError(f"malformed verifier key {text.strip()[:40]!r}") from None
        if not name or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise VerifyError(f"verifier key {name!r} is not an Ed25519 note key")
        public_key = raw[1:]
        if hex_id != key_id(name, public_key).hex():
            raise VerifyError(f"verifier key {name!r} has a wrong key id")
        return cls(name, bytes.fromhex(hex_id), public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """A signed note -> (text, [(signer name, key id, signature)]); the text keeps its final newline."""
    text, sep, signature_block = note.rpartition("\n\n")
    if not sep or not signature_block.endswith("\n"):
        raise VerifyError("not a signed note (no blank line before signatures, or no final newline)")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise VerifyError("malformed signature line")
        try:
            name, encoded = line[len(_SIGNATURE_PREFIX) :].split(" ")
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise VerifyError("malformed signature line") from None
        if len(raw) < 5:
            raise VerifyError("signature too short")
        signatures.append((name, raw[:4], raw[4:]))
    return text + "\n", signatures


def open_note(note: str, key: VerifierKey) -> str:
    """The note's text if ``key`` signed it; a signature by any other key does not count."""
    text, signatures = split_note(note)
    for name, kid, signature in signatures:
        if name == key.name and kid == key.key_id and key.verifies(text.encode(), signature):
            return text
    raise VerifyError(f"no valid signature by {key.name}+{key.key_id.hex()}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """C2SP tlog-checkpoint body: origin, decimal size, base64 root hash, then optional extension lines."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
            raise VerifyError("malformed checkpoint body")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error:
            raise VerifyError("malformed checkpoint root") from None
        if len(root) != 32:
            raise VerifyError("checkpoint root is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def verify_tlog_proof(proof: str, entry: bytes, key: VerifierKey) -> Checkpoint:
    """Check a C2SP tlog-proof of ``entry`` (its exact bytes) against a checkpoint signed by ``key``."""
    head, sep, note = proof.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != TLOG_PROOF_HEADER:
        raise VerifyError("not a c2sp.org/tlog-proof@v1 proof")
    lines = [line for line in lines[1:] if not line.startswith("extra ")]
    if not lines or not re.fullmatch(r"index (0|[1-9][0-9]*)", lines[0]):
        raise VerifyError("tlog-proof lacks its index line")
    try:
        path = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise VerifyError("tlog-proof hash is not base64") from None
    checkpoint = Checkpoint.parse(open_note(note, key))
    verify_inclusion(int(lines[0].split()[1]), checkpoint.size, leaf_hash(entry), path, checkpoint.root)
    return checkpoint


HANDOVER_HEADER = "docval key handover"


def handover_text(old: str, new: str) -> str:
    """What a key rotation signs: both keys, so neither can be swapped afterwards."""
    return f"{HANDOVER_HEADER}\n{old}\n{new}\n"


# ----------------------------------------------------------------------------- entries, chain and key history

ENTRY_FIELDS = frozenset({"seq", "prev", "ts", "kind", "doc", "actor", "data"})
KEY_ROTATED = "key.rotated"


@dataclass
class Failure:
    check: str
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f" at seq {self.seq}" if self.seq is not None else ""
        return f"{self.check}{where}: {self.reason}"


@dataclass
class LogState:
    """What walking the entries established: leaf hashes, roots at requested sizes, keys in force."""

    size: int = 0
    leaves: list[bytes] = field(default_factory=list)
    levels: list[list[bytes]] = field(default_factory=list)  # complete subtree hashes, by level, by index
    roots: dict[int, bytes] = field(default_factory=dict)
    key_changes: list[tuple[int, VerifierKey]] = field(default_factory=list)  # (first size it signs, key)

    def key_for(self, size: int) -> VerifierKey:
        """The key that must sign a checkpoint of ``size``: the last one handed over by an entry below it."""
        active = self.key_changes[0][1]
        for first_size, key in self.key_changes:
            if first_size <= size:
                active = key
        return active


def walk_entries(
    bodies: Iterable[bytes],
    anchor: VerifierKey,
    root_sizes: Iterable[int],
    loads: Callable[[bytes], object] = json.loads,
) -> tuple[LogState, Failure | None]:
    """Check seq order and the hash chain of every entry, follow key handovers, build the tree, record roots.

    Stops at the first bad entry, so the failure names the first bad seq. When entry s does not link
    to s-1, the next entry decides which one was altered: if s+1 still links to s, entry s is intact
    and s-1 changed; otherwise s itself changed. ``loads`` is swappable because docval verifies
    millions of entries with a faster parser than the stdlib's.
    """
    state = LogState(key_changes=[(0, anchor)])
    leaves = state.leaves
    prev = ZERO_HASH_HEX
    broken: int | None = None  # seq whose prev did not match, awaiting the next entry's verdict
    for seq, body in enumerate(bodies):
        try:
            entry = loads(body)
        except ValueError:
            return state, Failure("entry", seq, "not valid JSON")
        if type(entry) is not dict or not entry.keys() >= ENTRY_FIELDS:
            return state, Failure("entry", seq, "not an entry object with " + ", ".join(sorted(ENTRY_FIELDS)))
        if broken is not None:
            if entry["prev"] == prev:
                return state, Failure("chain", broken - 1, f"entry altered: seq {broken} recorded another leaf hash")
            return state, Failure("chain", broken, "entry altered: it links neither to seq before nor after it")
        if entry["seq"] != seq:
            return state, Failure("sequence", seq, f"entry carries seq {entry['seq']!r}: a row is missing or moved")
        if entry["prev"] != prev:
            broken = seq
        if entry["kind"] == KEY_ROTATED:
            failure = _follow_handover(state, seq, entry["data"])
            if failure:
                return state, failure
        leaf = _sha256(b"\x00" + body).digest()
        leaves.append(leaf)
        prev = leaf.hex()
    state.size = len(leaves)
    if broken is not None:
        return state, Failure("chain", broken, "prev is not the leaf hash of the entry before")
    state.levels = tree_levels(leaves)
    state.roots = {size: root_at(state.levels, size) for size in root_sizes if 0 <= size <= state.size}
    return state, None


def tree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete subtree hash, level by level (a level at a time is much faster than leaf by leaf)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([_sha256(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)])
    return levels


def border_nodes(size: int) -> list[tuple[int, int]]:
    """The complete subtrees ``(level, index)`` of a tree of ``size`` leaves, largest first."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_at(levels: list[list[bytes]], size: int) -> bytes:
    """Root of the first ``size`` leaves, from the complete subtrees of its right border."""
    return root_from_border([levels[level][index] for level, index in border_nodes(size)])


def _follow_handover(state: LogState, seq: int, data: object) -> Failure | None:
    active = state.key_changes[-1][1]
    try:
        old, new, note = data["old_key"], data["new_key"], data["handover"]  # type: ignore[index]
        if old != str(active):
            raise VerifyError(f"old_key is not the key in force ({active.name}+{active.key_id.hex()})")
        new_key = VerifierKey.parse(new)
        expected = handover_text(old, new)
        if open_note(note, active) != expected or open_note(note, new_key) != expected:
            raise VerifyError("handover note does not name these keys")
    except (KeyError, TypeError) as exc:
        return Failure("key history", seq, f"key.rotated entry lacks {exc}")
    except VerifyError as exc:
        return Failure("key history", seq, str(exc))
    state.key_changes.append((seq + 1, new_key))
    return None


def check_checkpoint(note: str, state: LogState, origin: str | None = None) -> tuple[Checkpoint | None, Failure | None]:
    """A checkpoint must be signed by the key in force at its size and commit to the recomputed root."""
    try:
        checkpoint = Checkpoint.parse(split_note(note)[0])
    except VerifyError as exc:
        return None, Failure("checkpoint signature", None, str(exc))
    try:
        open_note(note, state.key_for(checkpoint.size))
    except VerifyError as exc:  # the claimed size is unauthenticated, but it tells the reader which note
        return checkpoint, Failure("checkpoint signature", None, str(exc))
    if origin is not None and checkpoint.origin != origin:
        return checkpoint, Failure("checkpoint origin", None, f"origin {checkpoint.origin!r}, expected {origin!r}")
    if checkpoint.size > state.size:
        return checkpoint, Failure(
            "rollback", state.size, f"a checkpoint signs {checkpoint.size} entries but only {state.size} exist"
        )
    if state.roots.get(checkpoint.size) != checkpoint.root:
        return checkpoint, Failure(
            "checkpoint root", None, f"root of the first {checkpoint.size} entries differs from the signed root"
        )
    return checkpoint, None


# ----------------------------------------------------------------------------- the bundle checks


@dataclass
class Bundle:
    directory: Path
    known_checkpoints: list[str]
    anchor: VerifierKey | None = None
    listed_keys: list[str] = field(default_factory=list)
    state: LogState | None = None
    doc: str | None = None  # --doc: verify this one document's lineage only
    scope: set[str] | None = None  # documents claimed in the statement's period
    shards: dict[str, Bundle] = field(default_factory=dict)  # shards/<name>/, verified by check_shards


BundleCheck = Callable[[Bundle], str]


def check_manifest(bundle: Bundle) -> str:
    manifest = json.loads((bundle.directory / "manifest.json").read_text(encoding="utf-8"))
    for name, expected in sorted(manifest["files"].items()):
        path = bundle.directory / name
        if not path.is_file():
            raise VerifyError(f"{name} is listed but missing")
        if _sha256(path.read_bytes()).hexdigest() != expected:
            raise VerifyError(f"{name} does not match its SHA-256 in the manifest")
    return f"{len(manifest['files'])} files match their SHA-256"


def check_keys(bundle: Bundle) -> str:
    lines = [line for line in (bundle.directory / "ledger.vkey").read_text(encoding="utf-8").splitlines() if line]
    if not lines:
        raise VerifyError("ledger.vkey lists no key")
    keys = [VerifierKey.parse(line) for line in lines]
    bundle.anchor, bundle.listed_keys = keys[0], [str(key) for key in keys]
    return f"trust anchor {keys[0].name}+{keys[0].key_id.hex()}, {len(keys)} key(s) listed"


def _entry_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                raise VerifyError("entries.jsonl does not end with a newline")
            yield line[:-1]


def check_entries(bundle: Bundle) -> str:
    if bundle.anchor is None:
        raise VerifyError("no trust anchor (keys check failed)")
    notes = [(bundle.directory / "checkpoint").read_text(encoding="utf-8"), *bundle.known_checkpoints]
    sizes = [_note_size(note) for note in notes]
    state, failure = walk_entries(_entry_lines(bundle.directory / "entries.jsonl"), bundle.anchor, sizes)
    bundle.state = state
    if failure:
        raise VerifyError(str(failure))
    handed_over = [str(key) for _, key in state.key_changes]
    if handed_over != bundle.listed_keys:
        raise VerifyError("ledger.vkey does not list exactly the keys the log hands over to")
    return f"{state.size} entries: seq order and hash chain intact, {len(handed_over) - 1} key rotation(s) verified"


def _note_size(note: str) -> int:
    try:
        return Checkpoint.parse(split_note(note)[0]).size
    except VerifyError:
        return -1


def check_checkpoint_file(bundle: Bundle) -> str:
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    checkpoint, failure = check_checkpoint((bundle.directory / "checkpoint").read_text(encoding="utf-8"), bundle.state)
    if failure:
        raise VerifyError(str(failure))
    assert checkpoint is not None
    if checkpoint.size != bundle.state.size:
        raise VerifyError(f"checkpoint covers {checkpoint.size} entries but the bundle has {bundle.state.size}")
    return f"signed root of all {checkpoint.size} entries matches (origin {checkpoint.origin})"


def check_known_checkpoints(bundle: Bundle) -> str:
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    for note in bundle.known_checkpoints:
        _, failure = check_checkpoint(note, bundle.state)
        if failure:
            raise VerifyError(f"known checkpoint: {failure}")
    return f"{len(bundle.known_checkpoints)} earlier checkpoint(s) are prefixes of this log"


# ----------------------------------------------------------------------------- report checks (added by reports/)
# The completeness statement, per-document proofs, the consistency proof and the one-document mode.
# docval's reports/ imports count_completeness and statement_body from here, so the report and the
# auditor count documents with the same code.

STATEMENT_HEADER = "docval.completeness/v1"
STATEMENT_FILE = "completeness.note"
COUNT_KEYS = (
    "ingested",
    "published",
    "rejected",
    "quarantined",
    "pending",
    "awaiting_approval",
    "processing",
    "conflicting",
    "orphaned",
)
_TERMINAL = {"doc.published": "published", "doc.rejected": "rejected", "doc.quarantined": "quarantined"}


def count_completeness(rows: Iterable[tuple[str, str, str | None]], period_from: str, period_to: str) -> dict[str, int]:
    """Count documents claimed in ``[period_from, period_to)`` by where they ended, from ``(ts, kind, doc)`` rows.

    A document is *published*, *rejected* or *quarantined* by its last terminal entry, else *pending*
    (``awaiting_approval`` once approval was requested, ``processing`` before that). *conflicting*
    documents reached two different terminal states; *orphaned* ones have entries in the period but no
    claim anywhere in the ledger. Either means the ledger does not account for a document.
    """
    start, end = datetime.fromisoformat(period_from), datetime.fromisoformat(period_to)
    claimed: dict[str, datetime] = {}
    terminal: dict[str, set[str]] = {}
    last_terminal: dict[str, str] = {}
    requested: set[str] = set()
    seen_in_period: set[str] = set()
    for ts, kind, doc in rows:
        if doc is None:
            continue
        if kind == "doc.claimed":
            claimed.setdefault(doc, datetime.fromisoformat(ts))
        elif kind in _TERMINAL:
            terminal.setdefault(doc, set()).add(kind)
            last_terminal[doc] = _TERMINAL[kind]
        elif kind == "approval.requested":
            requested.add(doc)
        if doc not in claimed and start <= datetime.fromisoformat(ts) < end:
            seen_in_period.add(doc)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for doc, at in claimed.items():
        if not start <= at < end:
            continue
        counts["ingested"] += 1
        counts["conflicting"] += len(terminal.get(doc, ())) > 1
        if doc in last_terminal:
            counts[last_terminal[doc]] += 1
        else:
            counts["pending"] += 1
            counts["awaiting_approval" if doc in requested else "processing"] += 1
    counts["orphaned"] = len(seen_in_period - claimed.keys())
    return counts


def docs_claimed_in(rows: Iterable[tuple[str, str, str | None]], period_from: str, period_to: str) -> set[str]:
    start, end = datetime.fromisoformat(period_from), datetime.fromisoformat(period_to)
    return {
        doc for ts, kind, doc in rows if kind == "doc.claimed" and doc and start <= datetime.fromisoformat(ts) < end
    }


def is_complete(counts: dict[str, int]) -> bool:
    accounted = counts["published"] + counts["rejected"] + counts["quarantined"] + counts["pending"]
    return accounted == counts["ingested"] and counts["conflicting"] == 0 and counts["orphaned"] == 0


def statement_body(
    counts: dict[str, int],
    *,
    origin: str,
    period_from: str,
    period_to: str,
    size: int,
    root_b64: str,
    shards: dict[str, str] | None = None,
) -> str:
    """The signed-note text of a completeness statement: non-empty ``key value`` lines.

    ``shards``: name -> "<size> <base64 root>" of each shard checkpoint whose entries were counted too.
    """
    lines = [
        STATEMENT_HEADER,
        f"origin {origin}",
        f"period {period_from} {period_to}",
        f"checkpoint {size} {root_b64}",
        *(f"shard.{name} {value}" for name, value in sorted((shards or {}).items())),
        *(f"{key} {counts[key]}" for key in COUNT_KEYS),
        f"verdict {'complete' if is_complete(counts) else 'INCOMPLETE'}",
    ]
    return "\n".join(lines) + "\n"


def parse_statement(text: str) -> dict[str, str]:
    lines = text.rstrip("\n").split("\n")
    if lines[0] != STATEMENT_HEADER:
        raise VerifyError(f"{STATEMENT_FILE} is not a {STATEMENT_HEADER} statement")
    fields = dict(line.split(" ", 1) for line in lines[1:])
    missing = {"origin", "period", "checkpoint", "verdict", *COUNT_KEYS} - fields.keys()
    if missing:
        raise VerifyError(f"{STATEMENT_FILE} lacks {', '.join(sorted(missing))}")
    return fields


def _entry_rows(path: Path) -> Iterator[tuple[str, str, str | None]]:
    for body in _entry_lines(path):
        entry = json.loads(body)
        yield entry["ts"], entry["kind"], entry["doc"]


def _bundle_checkpoint(directory: Path) -> tuple[str, Checkpoint]:
    note = (directory / "checkpoint").read_text(encoding="utf-8")
    return note, Checkpoint.parse(split_note(note)[0])


SHARDS_DIR = "shards"
ANCHOR_CHECKPOINT = "anchor.checkpoint"


def shard_folders(directory: Path) -> dict[str, Path]:
    """``shards/<name>/`` folders of a bundle, by name."""
    folder = directory / SHARDS_DIR
    return {path.name: path for path in sorted(folder.iterdir()) if path.is_dir()} if folder.is_dir() else {}


def ordered_rows(parts: Iterable[Iterable[tuple[str, str, str | None]]]) -> list[tuple[str, str, str | None]]:
    """Rows of several ledgers in time order, ties root first then shards by name: how report and auditor
    count documents whose entries several workers wrote (e.g. claimed on one, approved on another)."""
    return sorted(itertools.chain.from_iterable(parts), key=lambda row: row[0])


def checkpoint_line(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.size} {base64.b64encode(checkpoint.root).decode()}"


def check_completeness(bundle: Bundle) -> str:
    """The signed statement's counts must equal the counts recomputed from entries.jsonl, and reconcile."""
    if not (bundle.directory / STATEMENT_FILE).exists():
        return "no completeness statement: a bare ledger export, not a report bundle"
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    _, checkpoint = _bundle_checkpoint(bundle.directory)
    fields = parse_statement(
        open_note(
            (bundle.directory / STATEMENT_FILE).read_text(encoding="utf-8"), bundle.state.key_for(checkpoint.size)
        )
    )
    if fields["checkpoint"] != checkpoint_line(checkpoint):
        raise VerifyError("the statement is about another checkpoint than the bundle's")
    period_from, period_to = fields["period"].split(" ")
    rows = _statement_rows(bundle.directory, {k[6:]: v for k, v in fields.items() if k.startswith("shard.")})
    counts = count_completeness(rows, period_from, period_to)
    differ = [
        f"{key} {fields[key]} (recomputed {counts[key]})" for key in COUNT_KEYS if fields[key] != str(counts[key])
    ]
    if differ:
        raise VerifyError("statement does not match the entries: " + ", ".join(differ))
    if not is_complete(counts) or fields["verdict"] != "complete":
        raise VerifyError(
            f"documents are not all accounted for: {fields['verdict']} "
            + ", ".join(f"{key} {counts[key]}" for key in COUNT_KEYS)
        )
    bundle.scope = docs_claimed_in(rows, period_from, period_to)
    return (
        f"{counts['ingested']} documents ingested {period_from} .. {period_to}: {counts['published']} published, "
        f"{counts['rejected']} rejected, {counts['quarantined']} quarantined, {counts['pending']} pending; signed"
    )


def _statement_rows(directory: Path, counted: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """The rows the statement counts: the root's, plus every shard's it names (exactly the bundle's shards)."""
    folders = shard_folders(directory)
    if counted.keys() != folders.keys():
        raise VerifyError(f"the statement counts shards {sorted(counted)}, the bundle holds {sorted(folders)}")
    for name, folder in folders.items():
        if counted[name] != checkpoint_line(_bundle_checkpoint(folder)[1]):
            raise VerifyError(f"shard {name}: the statement is about another checkpoint than the bundle's")
    if not folders:
        return list(_entry_rows(directory / "entries.jsonl"))
    files = [directory / "entries.jsonl", *(folder / "entries.jsonl" for folder in folders.values())]
    return ordered_rows(_entry_rows(path) for path in files)


def _last_anchored(path: Path) -> dict[str, dict[str, object]]:
    """The last ``anchor.checkpoint`` entry's data per shard in the root's entries."""
    anchored: dict[str, dict[str, object]] = {}
    for body in _entry_lines(path):
        if b'"anchor.checkpoint"' in body:
            entry = json.loads(body)
            if entry["kind"] == ANCHOR_CHECKPOINT:
                anchored[entry["data"]["shard"]] = entry["data"]
    return anchored


def check_shards(bundle: Bundle) -> str:
    """Each ``shards/<name>/`` verifies on its own, and its checkpoint is the one the root anchored last."""
    folders = shard_folders(bundle.directory)
    if not folders:
        return "no shards: the bundle is one ledger"
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    anchored = _last_anchored(bundle.directory / "entries.jsonl")
    missing = sorted(anchored.keys() - folders.keys())
    if missing:
        raise VerifyError(f"the root anchored shard(s) {', '.join(missing)}, which the bundle lacks")
    entries = 0
    for name, folder in folders.items():
        shard = Bundle(folder, [])
        try:
            for check in (check_keys, check_entries, check_checkpoint_file):
                check(shard)
        except (VerifyError, OSError, ValueError, KeyError) as exc:
            raise VerifyError(f"shard {name}: {exc}") from None
        data = anchored.get(name)
        if data is None or data["checkpoint"] != (folder / "checkpoint").read_text(encoding="utf-8"):
            raise VerifyError(f"shard {name}: its checkpoint is not the one the root's signed log anchored last")
        if data["vkey"] != str(shard.anchor):
            raise VerifyError(f"shard {name}: its ledger.vkey is not the trust anchor the root anchored")
        bundle.shards[name] = shard
        entries += shard.state.size if shard.state else 0
    return f"{len(folders)} shard(s), {entries} entries: each verifies and is the checkpoint the root anchored last"


def verify_multi_inclusion(indices: list[int], size: int, leaves: list[bytes], proof: list[bytes], root: bytes) -> None:
    """Several leaves against one root: RFC 9162 hashing, proof hashes per level bottom-up, left to right.

    A node without a right sibling moves up unchanged (that is the RFC 9162 split); with one index this is
    exactly ``verify_inclusion``.
    """
    if not indices or any(b <= a for a, b in itertools.pairwise(indices)) or indices[-1] >= size:
        raise VerifyError("indices must be increasing and below the tree size")
    known, hashes, width = dict(zip(indices, leaves, strict=True)), iter(proof), size
    while width > 1:
        parents: dict[int, bytes] = {}
        for index in sorted(known):
            if index >> 1 in parents:
                continue
            sibling = index ^ 1
            if sibling >= width:
                parents[index >> 1] = known[index]
                continue
            other = known[sibling] if sibling in known else next(hashes, None)
            if other is None:
                raise VerifyError("proof too short")
            parents[index >> 1] = node_hash(known[index], other) if index % 2 == 0 else node_hash(other, known[index])
        known, width = parents, (width + 1) // 2
    if next(hashes, None) is not None:
        raise VerifyError("proof too long")
    if known[0] != root:
        raise VerifyError("root mismatch")


def parse_doc_proof(text: str) -> tuple[list[bytes], list[int], list[bytes], str]:
    """``proofs/<doc>.proof`` -> (entry bytes, seqs, proof hashes, checkpoint note)."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != TLOG_PROOF_HEADER:
        raise VerifyError(f"not a {TLOG_PROOF_HEADER} proof")
    extras = [line[6:] for line in lines[1:] if line.startswith("extra ")]
    rest = lines[1 + len(extras) :]
    indices = [line[6:] for line in rest if line.startswith("index ")]
    if not indices or not all(re.fullmatch(r"0|[1-9][0-9]*", index) for index in indices):
        raise VerifyError("proof lacks its index lines")
    try:
        entries = [base64.b64decode(extra, validate=True) for extra in extras]
        path = [base64.b64decode(line, validate=True) for line in rest[len(indices) :]]
    except binascii.Error:
        raise VerifyError("proof line is not base64") from None
    return entries, [int(index) for index in indices], path, note


def verify_doc_proof(doc: str, text: str, note: str, checkpoint: Checkpoint) -> list[str]:
    """The proof covers entries of ``doc`` only, in the bundle's signed tree; returns their kinds in seq order."""
    entries, seqs, path, proof_note = parse_doc_proof(text)
    if proof_note != note:
        raise VerifyError(f"{doc[:16]}: proof is against another checkpoint")
    if len(entries) != len(seqs):
        raise VerifyError(f"{doc[:16]}: {len(entries)} entries but {len(seqs)} indices")
    values = [json.loads(entry) for entry in entries]
    for value, seq in zip(values, seqs, strict=True):
        if value.get("doc") != doc or value.get("seq") != seq:
            raise VerifyError(f"{doc[:16]}: entry at seq {seq} is not an entry of this document")
    try:
        verify_multi_inclusion(seqs, checkpoint.size, [leaf_hash(entry) for entry in entries], path, checkpoint.root)
    except VerifyError as exc:
        raise VerifyError(f"{doc[:16]}: inclusion: {exc}") from None
    return [value["kind"] for value in values]


def _check_claimed(docs: Iterable[str], claimed: set[str]) -> None:
    """A document's lineage starts with its claim (in one of the ledgers, when workers shared its steps)."""
    for doc in sorted(set(docs) - claimed):
        raise VerifyError(f"{doc[:16]}: lineage does not start with doc.claimed")


def _proof_folders(bundle: Bundle) -> list[tuple[str, Path]]:
    """(manifest prefix, folder) of the root and of every shard: each folder holds its own proofs/."""
    shards = bundle.shards or shard_folders(bundle.directory)
    return [
        ("", bundle.directory),
        *((f"{SHARDS_DIR}/{name}/", bundle.directory / SHARDS_DIR / name) for name in shards),
    ]


def check_proofs(bundle: Bundle) -> str:
    """Each document in scope has a proof file and every block in it verifies against the checkpoint."""
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    folders = _proof_folders(bundle)
    if not any((folder / "proofs").is_dir() for _, folder in folders) and bundle.scope is None:
        return "no document proofs: a bare ledger export, not a report bundle"
    files = {folder: sorted((folder / "proofs").glob("*.proof")) for _, folder in folders}
    docs = {path.stem for paths in files.values() for path in paths}
    if bundle.scope is not None and docs != bundle.scope:
        raise VerifyError(
            f"proofs cover {len(docs)} documents, the period has {len(bundle.scope)}: "
            f"{len(bundle.scope - docs)} missing, {len(docs - bundle.scope)} extra"
        )
    proven, claimed = 0, set()
    for folder, paths in files.items():
        note, checkpoint = _bundle_checkpoint(folder)
        for path in paths:
            kinds = verify_doc_proof(path.stem, path.read_text(encoding="utf-8"), note, checkpoint)
            proven += len(kinds)
            if kinds[0] == "doc.claimed":
                claimed.add(path.stem)
    _check_claimed(docs, claimed)
    return f"inclusion of {proven} entries of {len(docs)} documents verifies against the signed root"


def check_consistency_file(bundle: Bundle) -> str:
    """If the bundle carries an earlier checkpoint, the consistency proof from it must verify."""
    previous_path = bundle.directory / "previous-checkpoint"
    if not previous_path.exists():
        return "no earlier checkpoint in the bundle (pass --known-checkpoint to compare against one)"
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    previous = previous_path.read_text(encoding="utf-8")
    old = Checkpoint.parse(open_note(previous, bundle.state.key_for(Checkpoint.parse(split_note(previous)[0]).size)))
    _, new = _bundle_checkpoint(bundle.directory)
    lines = (bundle.directory / "consistency.proof").read_text(encoding="utf-8").rstrip("\n").split("\n")
    if lines[0] != "docval.consistency/v1":
        raise VerifyError("consistency.proof has no docval.consistency/v1 header")
    if lines[1] != f"old {old.size} {base64.b64encode(old.root).decode()}" or lines[2] != (
        f"new {new.size} {base64.b64encode(new.root).decode()}"
    ):
        raise VerifyError("consistency.proof is about other checkpoints")
    proof = [base64.b64decode(line, validate=True) for line in lines[3:]]
    verify_consistency(old.size, new.size, proof, old.root, new.root)
    return f"earlier checkpoint of size {old.size} is a prefix of this log (RFC 9162 consistency proof)"


# ----------------------------------------------------------------------------- people: enrolment and signed decisions
# Every entry a person is accountable for carries the statement they signed and the signature as received.
# These functions re-check them without docval: SSHSIG (OpenSSH PROTOCOL.sshsig, namespace docval-decision)
# against the keys enrolled at that point, with enrolment itself re-folded from the root's person.changed
# entries (the first is the trust anchor the auditor pins; later ones signed by one admin, two once two exist).
# docval's approvals package uses verify_sshsig from here, so the two cannot drift apart.

SSHSIG_NAMESPACE = "docval-decision"
_DECIDING = {"reviewer", "senior_reviewer"}


def _ssh_strings(data: bytes, count: int) -> tuple[list[bytes], bytes]:
    """``count`` SSH wire strings (uint32 length + bytes) from the front of ``data``, and what follows."""
    out = []
    for _ in range(count):
        if len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
            raise VerifyError("truncated SSH signature or key")
        size = int.from_bytes(data[:4], "big")
        out.append(data[4 : 4 + size])
        data = data[4 + size :]
    return out, data


def _ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def ssh_key_blob(line: str) -> bytes:
    parts = line.split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise VerifyError("not an OpenSSH ssh-ed25519 public key line")
    return base64.b64decode(parts[1], validate=True)


def verify_sshsig(public_key_line: str, message: bytes, armored: str, namespace: str = SSHSIG_NAMESPACE) -> None:
    """Raise ``VerifyError`` unless ``armored`` is an SSHSIG v1 over ``message`` by exactly this Ed25519 key."""
    text = armored.strip()
    begin, end = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"
    if not (text.startswith(begin) and text.endswith(end)):
        raise VerifyError("not an armored SSH signature")
    blob = base64.b64decode("".join(text[len(begin) : -len(end)].split()), validate=True)
    if blob[:6] != b"SSHSIG" or blob[6:10] != (1).to_bytes(4, "big"):
        raise VerifyError("not an SSHSIG version 1 signature")
    (signer, sig_namespace, reserved, hash_name, sig_blob), rest = _ssh_strings(blob[10:], 5)
    if rest:
        raise VerifyError("trailing bytes after the SSH signature")
    if signer != ssh_key_blob(public_key_line):
        raise VerifyError("signed by a different key than the one enrolled for this person")
    if sig_namespace != namespace.encode():
        raise VerifyError(f"signature namespace is not {namespace!r}")
    if hash_name not in (b"sha256", b"sha512"):
        raise VerifyError("unsupported SSHSIG hash algorithm")
    (key_type, raw_key), _ = _ssh_strings(signer, 2)
    (sig_type, raw_signature), rest = _ssh_strings(sig_blob, 2)
    if key_type != b"ssh-ed25519" or sig_type != b"ssh-ed25519" or rest or len(raw_key) != 32:
        raise VerifyError("only ssh-ed25519 signatures are accepted")
    digest = hashlib.new(hash_name.decode(), message).digest()
    signed = b"SSHSIG" + b"".join(map(_ssh_string, (namespace.encode(), reserved, hash_name, digest)))
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_signature, signed)
    except InvalidSignature:
        raise VerifyError("the SSH signature does not match the statement") from None


def statement_bytes(statement: dict) -> bytes:
    """The signed bytes: RFC 8785 canonical JSON, which for statements (strings, ints, lists) is sorted compact JSON."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_person_signature(key: dict, statement: dict, signature: dict) -> None:
    if key.get("kind") != "ssh-ed25519" or signature.get("kind") != "sshsig":
        raise VerifyError(f"{signature.get('kind')!r} signatures by {key.get('kind')!r} keys are not checked here")
    verify_sshsig(key["public_key"], statement_bytes(statement), signature["signature"])


def fold_enrolment(roster: dict[str, dict], entry: dict) -> dict[str, dict]:
    """The roster (name -> {roles, key}) after one ``person.changed`` entry; ``VerifyError`` if it is not valid."""
    statement, signatures = entry["data"]["statement"], entry["data"]["signatures"]
    admins = [name for name, person in roster.items() if "admin" in person["roles"]]
    signers = [signed["signer"] for signed in signatures]
    if not roster:  # the trust anchor
        if statement["action"] != "add" or "admin" not in statement["roles"] or set(signers) - {statement["person"]}:
            raise VerifyError("the first enrolment is not an admin adding themself")
        admins_keys = {statement["person"]: statement["key"]}
    else:
        admins_keys = {name: roster[name]["key"] for name in admins}
        if len(set(signers)) != len(signers) or len(signers) < min(2, len(admins)) or set(signers) - set(admins):
            raise VerifyError(f"enrolment signed by {signers}, not by enough distinct admins of {admins}")
    for signed in signatures:
        verify_person_signature(admins_keys[signed["signer"]], statement, signed["signature"])
    person, action, changed = statement["person"], statement["action"], dict(roster)
    if (action == "add") == (person in roster):
        raise VerifyError(f"{action} of {person}, who is {'already' if person in roster else 'not'} enrolled")
    if action == "remove":
        del changed[person]
    else:
        previous = roster.get(person, {})
        key = statement["key"] if action in ("add", "set-key") else previous["key"]
        roles = statement["roles"] if action in ("add", "set-roles") else previous["roles"]
        changed[person] = {"roles": roles, "key": key}
    return changed


def check_decision_entry(entry: dict, versions: list[dict[str, dict]], in_force: int | None) -> None:
    data, statement = entry["data"], entry["data"]["statement"]
    named = data["roster_version"]
    if named >= len(versions) or (in_force is not None and named != in_force):
        raise VerifyError(f"names enrolment version {named}, not the one in force")
    person = versions[named].get(statement["signer"])
    if person is None or entry["actor"] != statement["signer"]:
        raise VerifyError(f"{statement['signer']} was not enrolled at that point (actor {entry['actor']!r})")
    if data["role"] not in _DECIDING or data["role"] not in person["roles"]:
        raise VerifyError(f"{statement['signer']} did not hold the role {data['role']}")
    verify_person_signature(person["key"], statement, data["signature"])


def check_reveal_entry(entry: dict, roster: dict[str, dict]) -> None:
    statement, signature = entry["data"].get("statement"), entry["data"].get("signature")
    if not isinstance(statement, dict) or not isinstance(signature, dict):
        raise VerifyError("pii.revealed carries no person's signature")
    person = roster.get(statement["signer"])
    if person is None or "pii_reader" not in person["roles"] or entry["actor"] != statement["signer"]:
        raise VerifyError(f"{statement['signer']} was not an enrolled pii_reader at that point")
    if (statement["doc"], statement["token"]) != (entry["doc"], entry["data"]["token"]):
        raise VerifyError("the signed reveal names another document or pseudonym")
    verify_person_signature(person["key"], statement, signature)


def check_people_entries(lines: Iterable[bytes], versions: list[dict[str, dict]] | None) -> tuple[list, int]:
    """Fold enrolment (``versions`` None: this is the root) and check each decision; (versions, decisions)."""
    own, decisions, in_force = versions is None, 0, 0
    versions = [{}] if versions is None else versions
    for line in lines:
        entry = json.loads(line)
        kind = entry["kind"]
        try:
            if kind == "person.changed" and own:
                versions.append(fold_enrolment(versions[-1], entry))
                in_force += 1
            elif kind == "approval.granted":
                check_decision_entry(entry, versions, in_force if own else None)
                decisions += 1
            elif kind == "pii.revealed":
                check_reveal_entry(entry, versions[in_force] if own else versions[-1])
        except (VerifyError, KeyError, TypeError, ValueError) as exc:
            raise VerifyError(f"seq {entry['seq']}: {exc}") from None
    return versions, decisions


def check_people(bundle: Bundle) -> str:
    versions, decisions = check_people_entries(_entry_lines(bundle.directory / "entries.jsonl"), None)
    for folder in shard_folders(bundle.directory).values():
        decisions += check_people_entries(_entry_lines(folder / "entries.jsonl"), versions)[1]
    return f"{len(versions) - 1} enrolment change(s) and {decisions} decision(s) signed by people enrolled then"


def check_doc_manifest(bundle: Bundle) -> str:
    """One-document mode: only the files that document's check reads are hashed against the manifest.

    The manifest of a 100,000-document bundle is megabytes of JSON; the three names are found by a string
    search of ``"name": "<hex>"`` instead of parsing all of it (names are hex, so they need no escaping).
    """
    text = (bundle.directory / "manifest.json").read_text(encoding="utf-8")
    manifest = text[text.index('"files": {') :]  # only the file list, not the free-form "about"
    prefixes = [prefix for prefix, folder in _proof_folders(bundle) if (folder / f"proofs/{bundle.doc}.proof").exists()]
    names = [f"{prefix}{name}" for prefix in prefixes or [""] for name in ("checkpoint", "ledger.vkey")]
    names += [f"{prefix}proofs/{bundle.doc}.proof" for prefix in prefixes or [""]]
    for name in names:
        found = re.search(rf'"{re.escape(name)}": "([0-9a-f]{{64}})"', manifest)
        if found is None:
            raise VerifyError(f"{name} is not in the manifest (is the document in this bundle's period?)")
        if _sha256((bundle.directory / name).read_bytes()).hexdigest() != found.group(1):
            raise VerifyError(f"{name} does not match its SHA-256 in the manifest")
    return f"{', '.join(names)} match the manifest"


def check_doc_lineage(bundle: Bundle) -> str:
    """One-document mode: each checkpoint is signed by a listed key and every entry of the document is in it.

    The key history itself (which listed key was in force when), and that a shard's checkpoint is the one the
    root anchored, are proven only by the full run.
    """
    assert bundle.doc is not None
    found = [folder for _, folder in _proof_folders(bundle) if (folder / f"proofs/{bundle.doc}.proof").exists()]
    parts, claimed = [], set()
    for folder in found or [bundle.directory]:
        note, checkpoint = _bundle_checkpoint(folder)
        keys = [VerifierKey.parse(line) for line in (folder / "ledger.vkey").read_text().splitlines() if line]
        for key in reversed(keys):
            try:
                open_note(note, key)
                break
            except VerifyError:
                continue
        else:
            raise VerifyError(f"the checkpoint of {folder.name} is signed by no key in its ledger.vkey")
        text = (folder / "proofs" / f"{bundle.doc}.proof").read_text(encoding="utf-8")
        kinds = verify_doc_proof(bundle.doc, text, note, checkpoint)
        claimed |= {bundle.doc} if kinds[0] == "doc.claimed" else set()
        where = f"shard {folder.name}: " if folder != bundle.directory else ""
        parts.append(f"{where}{len(kinds)} entries in the signed tree of size {checkpoint.size}: {' > '.join(kinds)}")
    _check_claimed([bundle.doc], claimed)
    return "; ".join(parts)


DOC_CHECKS: list[tuple[str, BundleCheck]] = [
    ("manifest (document)", check_doc_manifest),
    ("lineage", check_doc_lineage),
]


# Named checks, run in order; later ones may rely on what earlier ones established. Add new checks here.
CHECKS: list[tuple[str, BundleCheck]] = [
    ("manifest", check_manifest),
    ("keys", check_keys),
    ("entries", check_entries),
    ("checkpoint", check_checkpoint_file),
    ("known checkpoints", check_known_checkpoints),
    ("shards", check_shards),
    ("completeness", check_completeness),
    ("proofs", check_proofs),
    ("consistency", check_consistency_file),
    ("people", check_people),
]


def run_checks(
    bundle: Bundle, out: Callable[[str], None] = print, checks: list[tuple[str, BundleCheck]] | None = None
) -> bool:
    ok = True
    for name, check in CHECKS if checks is None else checks:
        try:
            out(f"PASS {name}: {check(bundle)}")
        except (VerifyError, OSError, ValueError, KeyError, TypeError) as exc:
            out(f"FAIL {name}: {exc}")
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument(
        "--known-checkpoint", action="append", type=Path, default=[], help="a checkpoint seen earlier (repeatable)"
    )
    parser.add_argument("--doc", help="verify only this document's lineage (fast; the full run checks the rest)")
    args = parser.parse_args(argv)
    known = [path.read_text(encoding="utf-8") for path in args.known_checkpoint]
    ok = run_checks(Bundle(args.bundle, known, doc=args.doc), checks=DOC_CHECKS if args.doc else None)
    print("VERIFIED" if ok else "NOT VERIFIED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
