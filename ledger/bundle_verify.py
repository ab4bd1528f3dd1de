#!/usr/bin/env python3
"""Verify a docval evidence bundle offline: ``python verify.py [BUNDLE_DIR] [--known-checkpoint FILE]
[--vkey FILE] [--witness-key FILE]... [--quorum K] [--doc ID]``.

Needs only Python >= 3.11 and the ``cryptography`` package, so an auditor can
run it without installing docval or trusting its operator. It is one file on
purpose: docval copies it verbatim into every export as ``verify.py``, and
docval's own ``ledger verify`` imports its primitives so the bundle check and
the in-place check can never drift apart.

The bundle (DESIGN.md "Ledger format"): ``entries.jsonl`` (one RFC 8785 entry
per line), ``checkpoint`` (C2SP tlog-checkpoint in a C2SP signed note),
``ledger.vkey`` (note verifier keys, oldest first; the first line is the trust
anchor), ``cosignatures`` (if witnesses cosigned: C2SP cosignature/v1 lines over
``checkpoint``), ``proofs/<doc>/<seq>.proof`` in report bundles (one C2SP
tlog-proof per entry), ``manifest.json`` (SHA-256 of every file). Each check below prints one
verdict line; the exit status is 0 only if every check passes. A failure names
the first bad sequence number where one exists.

Whoever made the bundle holds the ledger key, so the bundle's own keys prove
nothing against them: pass the log key you hold (``--vkey``) and the keys of
witnesses you trust (``--witness-key``, ``--quorum``). A log rolled back to an
earlier, self-consistent state can only be caught against a checkpoint seen
before: pass it with ``--known-checkpoint``.

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
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
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


def key_id(name: str, public_key: bytes, algorithm: int = ALG_ED25519) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || algorithm || pubkey), per the signed-note spec."""
    return _sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier key; subclasses differ only in the signature type byte (and what they verify)."""

    name: str
    key_id: bytes
    public_key: bytes
    ALGORITHM: ClassVar[int] = ALG_ED25519
    KIND: ClassVar[str] = "verifier key"

    @classmethod
    def parse(cls, text: str) -> Self:
        """``<name>+<8 hex key id>+<base64(type||pubkey)>``; the type must be ours, the key id match the key."""
        try:
            name, hex_id, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise VerifyError(f"malformed {cls.KIND} {text.strip()[:40]!r}") from None
        if not name or len(raw) != 33 or raw[0] != cls.ALGORITHM:
            raise VerifyError(f"{cls.KIND} {name!r} is not an Ed25519 key of type 0x{cls.ALGORITHM:02x}")
        public_key = raw[1:]
        if hex_id != key_id(name, public_key, cls.ALGORITHM).hex():
            raise VerifyError(f"{cls.KIND} {name!r} has a wrong key id")
        return cls(name, bytes.fromhex(hex_id), public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([self.ALGORITHM]) + self.public_key).decode()
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


# ----------------------------------------------------------------------------- C2SP tlog-cosignature, tlog-witness
# A witness (someone other than the operator) cosigns a checkpoint only if it extends every checkpoint of the
# same origin it cosigned before. Cosignature v1: a note signature line whose key id uses type 0x04 and whose
# signature is u64 timestamp || Ed25519("cosignature/v1\ntime <t>\n" || checkpoint body).

ALG_COSIGNATURE_V1 = 0x04
COSIGNATURES_FILE = "cosignatures"  # in a bundle: the witnesses' signature lines of ``checkpoint``
COSIGNATURE_HEADER = "cosignature/v1"
WITNESS_TIMEOUT_SECONDS = 10.0


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a v1 cosignature signs: header line, time line, then the checkpoint body with its final newline."""
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class CosignerKey(VerifierKey):
    """A witness's verifier key, ``<name>+<8 hex key id>+<base64(0x04||pubkey)>`` (C2SP tlog-cosignature)."""

    ALGORITHM: ClassVar[int] = ALG_COSIGNATURE_V1
    KIND: ClassVar[str] = "witness key"

    def cosigned_at(self, body: str, signatures: list[tuple[str, bytes, bytes]]) -> int | None:
        """The timestamp of this witness's valid cosignature of ``body`` among ``signatures``, else None."""
        for name, kid, raw in signatures:
            if name != self.name or kid != self.key_id or len(raw) != 72:
                continue
            timestamp = int.from_bytes(raw[:8], "big")
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw[8:], cosigned_message(body, timestamp))
            except InvalidSignature:
                continue
            return timestamp
        return None


def count_cosigners(note: str, keys: list[CosignerKey]) -> list[str]:
    """Names of the ``keys`` that validly cosigned the checkpoint ``note`` (signature lines from others ignored)."""
    body, signatures = split_note(note)
    return [key.name for key in keys if key.cosigned_at(body, signatures) is not None]


@dataclass(frozen=True)
class Witness:
    """A witness as an auditor pins it: its key, and (optionally) the URL prefix of its C2SP endpoints."""

    key: CosignerKey
    url: str | None = None

    @classmethod
    def parse(cls, text: str) -> Witness:
        """``<verifier key>`` or ``<url> <verifier key>`` (the form of docval.toml's ``[ledger] witnesses``)."""
        parts = text.split()
        if len(parts) == 2 and parts[0].startswith(("http://", "https://")):
            return cls(CosignerKey.parse(parts[1]), parts[0].rstrip("/"))
        if len(parts) == 1:
            return cls(CosignerKey.parse(parts[0]))
        raise VerifyError(f"expected '<witness verifier key>' or '<url> <witness verifier key>', got {text[:60]!r}")


def add_checkpoint(url: str, old_size: int, proof: list[bytes], note: str) -> tuple[int, str]:
    """POST ``<url>/add-checkpoint`` (C2SP tlog-witness): (HTTP status, body); OSError if unreachable."""
    import urllib.error
    import urllib.request

    body = f"old {old_size}\n" + "".join(base64.b64encode(node).decode() + "\n" for node in proof) + "\n" + note
    request = urllib.request.Request(url + "/add-checkpoint", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def witnessed_size(url: str, note: str) -> int:
    """The size of the latest checkpoint of ``note``'s origin the witness cosigned.

    Asked the only way the protocol offers: an add-checkpoint of ``note`` from old size 0. A witness that
    has cosigned anything answers 409 with its size; one that has not cosigns ``note`` (size 0 before).
    """
    status, text = add_checkpoint(url, 0, [], note)
    if status == 200:
        return 0
    if status == 409 and re.fullmatch(r"(0|[1-9][0-9]*)\n", text):
        return int(text)
    raise VerifyError(f"witness {url} answered {status}: {text.strip()[:80]}")


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
    pinned_vkey: VerifierKey | None = None  # --vkey: the auditor's own copy of the log's key
    witnesses: list[CosignerKey] = field(default_factory=list)  # --witness-key
    quorum: int = 0  # --quorum: cosignatures required (0: one per witness key)


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


def verify_entry_proof(doc: str, seq: int, text: str, note: str, checkpoint: Checkpoint) -> str:
    """``proofs/<doc>/<seq>.proof``: a C2SP tlog-proof (header, the entry as its one ``extra`` line, ``index``,
    the RFC 9162 audit path, the checkpoint) of entry ``seq`` of ``doc`` in the bundle's signed tree; its kind."""
    head, sep, proof_note = text.partition("\n\n")
    lines = head.split("\n")
    where = f"{doc[:16]}/{seq}"
    if not sep or len(lines) < 3 or lines[0] != TLOG_PROOF_HEADER or lines[2] != f"index {seq}":
        raise VerifyError(f"{where}: not a {TLOG_PROOF_HEADER} proof with one extra line and index {seq}")
    if not lines[1].startswith("extra "):
        raise VerifyError(f"{where}: the proof does not carry the entry as its extra line")
    if proof_note != note:
        raise VerifyError(f"{where}: proof is against another checkpoint")
    try:
        entry = base64.b64decode(lines[1][6:], validate=True)
        path = [base64.b64decode(line, validate=True) for line in lines[3:]]
    except binascii.Error:
        raise VerifyError(f"{where}: proof line is not base64") from None
    value = json.loads(entry)
    if type(value) is not dict or value.get("doc") != doc or value.get("seq") != seq:
        raise VerifyError(f"{where}: the entry is not entry {seq} of this document")
    try:
        verify_inclusion(seq, checkpoint.size, leaf_hash(entry), path, checkpoint.root)
    except VerifyError as exc:
        raise VerifyError(f"{where}: inclusion: {exc}") from None
    return value["kind"]


def _entry_proofs(folder: Path, doc: str) -> list[tuple[int, Path]]:
    """``proofs/<doc>/*.proof`` of one ledger folder, in seq order."""
    found = []
    for path in (folder / "proofs" / doc).glob("*.proof"):
        if not re.fullmatch(r"0|[1-9][0-9]*", path.stem):
            raise VerifyError(f"{doc[:16]}: proof file {path.name} is not named <seq>.proof")
        found.append((int(path.stem), path))
    return sorted(found)


def verify_doc_proofs(folder: Path, doc: str, note: str, checkpoint: Checkpoint) -> list[str]:
    """Every entry proof of ``doc`` in one ledger folder; the entries' kinds in seq order."""
    proofs = _entry_proofs(folder, doc)
    if not proofs:
        raise VerifyError(f"{doc[:16]}: no entry proofs")
    return [verify_entry_proof(doc, seq, path.read_text(encoding="utf-8"), note, checkpoint) for seq, path in proofs]


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
    """Each document in scope has its entries' proofs and every one verifies against the checkpoint."""
    if bundle.state is None:
        raise VerifyError("entries were not verified")
    folders = _proof_folders(bundle)
    if not any((folder / "proofs").is_dir() for _, folder in folders) and bundle.scope is None:
        return "no document proofs: a bare ledger export, not a report bundle"
    held = {
        folder: sorted(path.name for path in (folder / "proofs").iterdir()) if (folder / "proofs").is_dir() else []
        for _, folder in folders
    }
    docs = {doc for names in held.values() for doc in names}
    if bundle.scope is not None and docs != bundle.scope:
        raise VerifyError(
            f"proofs cover {len(docs)} documents, the period has {len(bundle.scope)}: "
            f"{len(bundle.scope - docs)} missing, {len(docs - bundle.scope)} extra"
        )
    proven, claimed = 0, set()
    for folder, names in held.items():
        note, checkpoint = _bundle_checkpoint(folder)
        for doc in names:
            kinds = verify_doc_proofs(folder, doc, note, checkpoint)
            proven += len(kinds)
            if kinds[0] == "doc.claimed":
                claimed.add(doc)
    _check_claimed(docs, claimed)
    return f"inclusion of {proven} entries of {len(docs)} documents verifies against the signed root (C2SP tlog-proofs)"


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


# ----------------------------------------------------------------------------- people: WebAuthn (passkey) signatures
# Decisions signed in the reviewer workbench. Only ``cryptography`` is needed: the two COSE key types
# authenticators offer (Ed25519 = OKP/-8, ES256 = EC2/-7) are read with the tiny CBOR reader below.
# docval's approvals.passkey uses verify_webauthn from here, so the workbench and the auditor agree.

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
_OKP, _EC2 = 1, 2
_EDDSA, _ES256 = -8, -7
_ED25519, _P256 = 6, 1


def verify_webauthn(key: dict, statement: bytes, evidence: dict) -> None:
    """Raise ``VerifyError`` unless ``evidence`` is the enrolled credential ``key`` signing ``statement``.

    A workbench decision is a WebAuthn assertion whose challenge is SHA-256 of the statement; the
    authenticator signed ``authenticatorData || SHA-256(clientDataJSON)``, so the signature, then the client
    data's type, challenge and origin, then the RP id hash and the user-present and user-verified flags prove
    that this credential approved exactly these bytes on that origin. The sign counter is not checked: an
    auditor has no live counter, and the round in every statement stops replays.
    """
    if key.get("kind") != "webauthn" or evidence.get("kind") != "webauthn":
        raise VerifyError("not a webauthn key and signature")
    if evidence.get("credential_id") != key.get("credential_id"):
        raise VerifyError("signed by another credential than the one enrolled")
    auth_data = _unb64url(evidence["authenticator_data"])
    client_data_json = _unb64url(evidence["client_data_json"])
    signature = _unb64url(evidence["signature"])
    _check_webauthn_signature(
        _unb64url(key["cose_public_key"]), auth_data + hashlib.sha256(client_data_json).digest(), signature
    )
    _check_client_data(client_data_json, statement, key["origin"])
    _check_authenticator_data(auth_data, key["rp_id"])


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise VerifyError(f"not base64url: {exc}") from None


def _check_client_data(client_data_json: bytes, statement: bytes, origin: str) -> None:
    try:
        client_data = json.loads(client_data_json)
    except ValueError:
        raise VerifyError("clientDataJSON is not JSON") from None
    if client_data.get("type") != "webauthn.get":
        raise VerifyError(f"clientDataJSON type is {client_data.get('type')!r}, not 'webauthn.get'")
    if _unb64url(str(client_data.get("challenge", ""))) != hashlib.sha256(statement).digest():
        raise VerifyError("challenge is not SHA-256 of the statement")
    if client_data.get("origin") != origin:
        raise VerifyError(f"signed on origin {client_data.get('origin')!r}, enrolled for {origin!r}")


def _check_authenticator_data(auth_data: bytes, rp_id: str) -> None:
    if len(auth_data) < 37:
        raise VerifyError("authenticatorData is shorter than 37 bytes")
    if auth_data[:32] != hashlib.sha256(rp_id.encode()).digest():
        raise VerifyError(f"rpIdHash is not SHA-256 of {rp_id!r}")
    flags = auth_data[32]
    if not flags & FLAG_USER_PRESENT or not flags & FLAG_USER_VERIFIED:
        raise VerifyError("the authenticator did not verify the user (UP and UV flags required)")


def _check_webauthn_signature(cose: bytes, message: bytes, signature: bytes) -> None:
    key = _read_cbor_map(cose)
    kind = (key.get(1), key.get(3), key.get(-1))
    if kind not in ((_OKP, _EDDSA, _ED25519), (_EC2, _ES256, _P256)):
        raise VerifyError(f"COSE key type/alg/curve {kind} is not accepted (Ed25519 or ES256 only)")
    try:
        if kind[0] == _OKP:
            Ed25519PublicKey.from_public_bytes(key[-2]).verify(signature, message)
        else:
            x, y = (int.from_bytes(key[label], "big") for label in (-2, -3))
            public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VerifyError("bad signature") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise VerifyError(f"malformed COSE key: {exc!r}") from None


def _read_cbor_map(data: bytes) -> dict[int, Any]:
    """The one CBOR shape a COSE public key has: a map of small integer keys to integers or byte strings."""
    value, end = _cbor_item(data, 0)
    if not isinstance(value, dict) or end != len(data):
        raise VerifyError("COSE key is not a single CBOR map")
    return value


def _cbor_item(data: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(data):
        raise VerifyError("truncated CBOR")
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise VerifyError("truncated CBOR")
        arg, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
    else:
        raise VerifyError("indefinite-length CBOR is not used in COSE keys")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise VerifyError("truncated CBOR")
        raw = data[pos : pos + arg]
        return (raw if major == 2 else raw.decode("utf-8")), pos + arg
    if major == 5:
        out: dict[Any, Any] = {}
        for _ in range(arg):
            k, pos = _cbor_item(data, pos)
            out[k], pos = _cbor_item(data, pos)
        return out, pos
    raise VerifyError(f"CBOR major type {major} is not used in COSE keys")


def statement_bytes(statement: dict) -> bytes:
    """The signed bytes: RFC 8785 canonical JSON, which for statements (strings, ints, lists) is sorted compact JSON."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify_person_signature(key: dict, statement: dict, signature: dict) -> None:
    """A person's signature over a statement: SSHSIG by an enrolled OpenSSH key, or a passkey assertion."""
    kinds = (key.get("kind"), signature.get("kind"))
    if kinds == ("ssh-ed25519", "sshsig"):
        verify_sshsig(key["public_key"], statement_bytes(statement), signature["signature"])
    elif kinds == ("webauthn", "webauthn"):
        verify_webauthn(key, statement_bytes(statement), signature)
    else:
        raise VerifyError(f"{kinds[1]!r} signatures by {kinds[0]!r} keys are not accepted")


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
        check_admin_quorum("enrolment", signers, admins)
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


def check_admin_quorum(what: str, signers: list[str], admins: list[str]) -> None:
    """Distinct enrolled admins, two once two exist (at least one)."""
    if len(set(signers)) != len(signers) or len(signers) < max(1, min(2, len(admins))) or set(signers) - set(admins):
        raise VerifyError(f"{what} signed by {signers}, not by enough distinct admins of {admins}")


def check_policy_entry(entry: dict, roster: dict[str, dict]) -> None:
    """A ledgered policy (``config.applied`` with content) signed by enough admins enrolled at that point."""
    data, statement = entry["data"], entry["data"].get("statement")
    if not isinstance(statement, dict):
        raise VerifyError("a policy applied without admins' signatures")
    if statement["sha256"] != data["sha256"] or statement["content_sha256"] != policy_content_digest(data["content"]):
        raise VerifyError("the admins' statement is about another policy")
    signatures = data.get("signatures") or []
    admins = sorted(name for name, person in roster.items() if "admin" in person["roles"])
    check_admin_quorum("policy", [signed["signer"] for signed in signatures], admins)
    for signed in signatures:
        verify_person_signature(roster[signed["signer"]]["key"], statement, signed["signature"])


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


# Operations a person orders (approvals.actions): kind -> (statement context, role, {statement field: entry value})
SIGNED_ACTIONS = {
    "pii.revealed": ("docval pii reveal v1", "pii_reader", lambda e: {"doc": e["doc"], "token": e["data"]["token"]}),
    "pii.erased": ("docval pii erase v1", "pii_reader", lambda e: {"subject": e["data"]["subject"]}),
    "key.rotated": (
        "docval key rotation v1",
        "admin",
        lambda e: {"old_key": e["data"]["old_key"], "new_key": e["data"]["new_key"]},
    ),
}


def check_action_entry(entry: dict, rosters: list[dict[str, dict]]) -> None:
    """A reveal, erasure or key rotation signed by a person holding the role in one of ``rosters``."""
    context, role, bound = SIGNED_ACTIONS[entry["kind"]]
    statement, signature = entry["data"].get("statement"), entry["data"].get("signature")
    if not isinstance(statement, dict) or not isinstance(signature, dict):
        raise VerifyError(f"{entry['kind']} carries no person's signature")
    if statement.get("context") != context or any(statement.get(k) != v for k, v in bound(entry).items()):
        raise VerifyError(f"the signed statement names other values than this {entry['kind']}")
    holders = [
        roster[statement["signer"]]
        for roster in rosters
        if role in roster.get(statement["signer"], {}).get("roles", [])
    ]
    if not holders or entry["actor"] != statement["signer"]:
        raise VerifyError(f"{statement['signer']} was not an enrolled {role} at that point")
    problems = []
    for person in holders:
        try:
            return verify_person_signature(person["key"], statement, signature)
        except VerifyError as exc:
            problems.append(str(exc))
    raise VerifyError(f"{entry['kind']} signature not valid for {statement['signer']}: {problems[-1]}")


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
            elif kind in SIGNED_ACTIONS:  # a shard's entries name no enrolment version: any root roster will do
                check_action_entry(entry, [versions[in_force]] if own else versions[::-1])
            elif kind == "config.applied" and entry["data"].get("content") is not None:
                check_policy_entry(entry, versions[in_force] if own else versions[-1])
        except (VerifyError, KeyError, TypeError, ValueError) as exc:
            raise VerifyError(f"seq {entry['seq']}: {exc}") from None
    return versions, decisions


def check_people(bundle: Bundle) -> str:
    versions, decisions = check_people_entries(_entry_lines(bundle.directory / "entries.jsonl"), None)
    for folder in shard_folders(bundle.directory).values():
        decisions += check_people_entries(_entry_lines(folder / "entries.jsonl"), versions)[1]
    return f"{len(versions) - 1} enrolment change(s) and {decisions} decision(s) signed by people enrolled then"


# ----------------------------------------------------------------------------- auto-decisions (policy)
# Nobody signs what the policy decides, so it must be re-derivable: each ``doc.decided`` names the policy
# version in force, ``config.applied`` ledgers that policy's content, and the decision must be what the policy
# gives the document's ledgered facts. flows/policy.py decides with ``policy_outcome`` itself, so the
# appliance and this check cannot drift apart.


def policy_content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of a policy's content as sorted compact JSON, the same before and after the ledger stores it.

    The ledger's canonical JSON writes 24.0 as 24, so integral floats are taken as integers first.
    """
    return _sha256(json.dumps(_integral(content), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _integral(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The line-item table's confidence marks whether the whole table was read (validation sums a complete table
# against the net total: LINE_MISMATCH); it is not a probability of being right, which is what the policy's
# ``confidence_below`` compares.
_COMPLETENESS_MARKS = frozenset({"line_items"})


def lowest_confidence(confidences: dict[str, float]) -> float | None:
    """The policy's ``min_confidence``: the lowest calibrated field confidence, line-item table left out."""
    values = [value for name, value in confidences.items() if name not in _COMPLETENESS_MARKS]
    return min(values) if values else None


def policy_outcome(policy: dict[str, Any], facts: dict[str, Any]) -> tuple[str, str, int]:
    """(outcome, rule, approvals required) for plain-data facts under a policy (``Policy.model_dump(mode="json")``).

    ``facts``: kind, finding_codes, amount (decimal string or None), min_confidence (or None). The first rule
    whose conditions all hold decides; none: the policy's default.
    """
    rule = next((rule for rule in policy["rules"] if _condition_holds(rule.get("when") or {}, facts)), None)
    outcome, name = (rule["outcome"], rule["name"]) if rule else (policy["default"], "default")
    if outcome != "needs_approval":
        return outcome, name, 0
    amount = _decimal(facts.get("amount"))
    two = amount is not None and amount > Decimal(str(policy["two_approvers_over"]))
    return outcome, name, 2 if two else 1


def _condition_holds(when: dict[str, Any], facts: dict[str, Any]) -> bool:
    codes, amount, low = (
        set(facts.get("finding_codes") or []),
        _decimal(facts.get("amount")),
        facts.get("min_confidence"),
    )
    over, at_most, below = (
        _decimal(when.get("amount_over")),
        _decimal(when.get("amount_at_most")),
        when.get("confidence_below"),
    )
    checks = [
        when.get("kinds") is None or facts["kind"] in when["kinds"],
        when.get("findings_any") is None or bool(set(when["findings_any"]) & codes),
        when.get("any_finding") is None or when["any_finding"] == bool(codes),
        over is None or (amount is not None and amount > over),
        at_most is None or (amount is not None and amount <= at_most),
        below is None or (low is not None and low < below),
    ]
    return all(checks)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class DecisionFacts:
    """What the ledger holds of each document for the policy, in entry order; policies by version."""

    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked: int = 0

    def see(self, entry: dict) -> None:
        """Take in one entry; ``VerifyError`` for a decision the ledgered policy would not give."""
        kind, data, doc = entry["kind"], entry["data"], entry["doc"]
        if kind == "config.applied" and data.get("name") == "policy" and data.get("statement") is not None:
            self.policies[data["sha256"]] = data["content"]
        elif kind == "doc.extracted":
            confidences = {name: value["confidence"] for name, value in data["fields"].items()}
            self.docs[doc] = {"kind": data["kind"], "min_confidence": lowest_confidence(confidences)}
        elif kind == "doc.validated":
            self.docs.setdefault(doc, {})["finding_codes"] = sorted({f["code"] for f in data["findings"]})
        elif kind == "doc.decided" and self.policies:  # from the first ledgered policy on, every decision
            self._check(entry)

    def _check(self, entry: dict) -> None:
        data = entry["data"]
        policy = self.policies.get(data.get("policy", ""))
        if policy is None:
            raise VerifyError(f"names policy {data.get('policy')!r}, which no config.applied ledgers")
        facts = self.docs.get(entry["doc"], {}) | {"amount": data.get("amount")}
        if "kind" not in facts:
            raise VerifyError("a decision without a doc.extracted entry to derive it from")
        expected = policy_outcome(policy, facts)
        if (data["outcome"], data["rule"], data.get("approvals_required", 0)) != expected:
            raise VerifyError(
                f"doc.decided says {data['outcome']} by rule {data['rule']!r}; the ledgered policy gives "
                f"{expected[0]} by rule {expected[1]!r} ({expected[2]} approvals)"
            )
        self.checked += 1


def check_decisions_entries(lines: Iterable[bytes], facts: DecisionFacts) -> DecisionFacts:
    for line in lines:
        entry = json.loads(line)
        try:
            facts.see(entry)
        except (VerifyError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise VerifyError(f"seq {entry['seq']}: {exc}") from None
    return facts


def check_decisions(bundle: Bundle) -> str:
    """Every policy decision is what the ledgered policy it names gives the document's ledgered facts."""
    root = check_decisions_entries(_entry_lines(bundle.directory / "entries.jsonl"), DecisionFacts())
    checked = root.checked
    for folder in shard_folders(bundle.directory).values():  # shards decide under the root's policies
        shard = DecisionFacts(policies=dict(root.policies))
        checked += check_decisions_entries(_entry_lines(folder / "entries.jsonl"), shard).checked
    return f"{checked} policy decision(s) re-derived from {len(root.policies)} ledgered policy version(s)"


def check_doc_manifest(bundle: Bundle) -> str:
    """One-document mode: only the files that document's check reads are hashed against the manifest.

    The manifest of a 100,000-document bundle is megabytes of JSON; the few names are found by a string
    search of ``"name": "<hex>"`` instead of parsing all of it (names are hex, so they need no escaping),
    each from where its folder's names begin, so the text is scanned about once, not once per proof.
    """
    text = (bundle.directory / "manifest.json").read_text(encoding="utf-8")
    manifest = text[text.index('"files": {') :]  # only the file list, not the free-form "about"
    assert bundle.doc is not None
    held = [(prefix, folder) for prefix, folder in _proof_folders(bundle) if (folder / "proofs" / bundle.doc).is_dir()]
    names = [f"{prefix}{name}" for prefix in [p for p, _ in held] or [""] for name in ("checkpoint", "ledger.vkey")]
    names += [
        f"{prefix}proofs/{bundle.doc}/{seq}.proof" for prefix, f in held for seq, _ in _entry_proofs(f, bundle.doc)
    ]
    starts: dict[str, int] = {}
    for name in names:
        folder = name.rpartition("/")[0]
        if folder not in starts:  # one scan to the document's folder: the manifest's names are sorted
            starts[folder] = max(manifest.find(f'"{folder}/'), 0) if folder else 0
        pattern = re.compile(rf'"{re.escape(name)}": "([0-9a-f]{{64}})"')
        found = pattern.search(manifest, starts[folder]) or pattern.search(manifest)
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
    found = [folder for _, folder in _proof_folders(bundle) if (folder / "proofs" / bundle.doc).is_dir()]
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
        kinds = verify_doc_proofs(folder, bundle.doc, note, checkpoint)
        claimed |= {bundle.doc} if kinds[0] == "doc.claimed" else set()
        where = f"shard {folder.name}: " if folder != bundle.directory else ""
        parts.append(f"{where}{len(kinds)} entries in the signed tree of size {checkpoint.size}: {' > '.join(kinds)}")
    _check_claimed([bundle.doc], claimed)
    return "; ".join(parts)


# ----------------------------------------------------------------------------- pinned keys (--vkey, --witness-key)
# The bundle's own ledger.vkey proves nothing against whoever made the bundle: a history re-signed with a new
# key verifies against the new key. The auditor's pins do: the trust anchor must be the pinned key (later
# keys follow from it through the signed handovers), and the checkpoint must carry cosignatures by a quorum
# of the pinned witnesses, who cosign only a history consistent with every one they cosigned before.


def check_pinned_key(bundle: Bundle) -> str:
    if bundle.pinned_vkey is None:
        return "no --vkey given: the trust anchor is the bundle's own ledger.vkey (pin it to catch a re-signed log)"
    if bundle.anchor is None or str(bundle.anchor) != str(bundle.pinned_vkey):
        raise VerifyError(
            f"the bundle's trust anchor is not the pinned key {bundle.pinned_vkey.name}+"
            f"{bundle.pinned_vkey.key_id.hex()}: the log was signed with another key"
        )
    return f"the trust anchor is the pinned key {bundle.pinned_vkey.name}+{bundle.pinned_vkey.key_id.hex()}"


def check_cosignatures(bundle: Bundle) -> str:
    if not bundle.witnesses:
        return "no --witness-key given: witness cosignatures not checked"
    required = bundle.quorum or len(bundle.witnesses)
    path = bundle.directory / COSIGNATURES_FILE
    lines = path.read_text(encoding="utf-8") if path.exists() else ""
    note = (bundle.directory / "checkpoint").read_text(encoding="utf-8")
    names = count_cosigners(note + lines, bundle.witnesses)
    if len(names) < required:
        raise VerifyError(f"the checkpoint is cosigned by {len(names)} of the {required} pinned witnesses required")
    return f"the checkpoint is cosigned by {', '.join(names)} ({len(names)} of {required} required)"


DOC_CHECKS: list[tuple[str, BundleCheck]] = [
    ("manifest (document)", check_doc_manifest),
    ("lineage", check_doc_lineage),
    ("keys", check_keys),  # the pins below hold in one-document mode too
    ("pinned key", check_pinned_key),
    ("witnesses", check_cosignatures),
]


# Named checks, run in order; later ones may rely on what earlier ones established. Add new checks here.
CHECKS: list[tuple[str, BundleCheck]] = [
    ("manifest", check_manifest),
    ("keys", check_keys),
    ("entries", check_entries),
    ("checkpoint", check_checkpoint_file),
    ("pinned key", check_pinned_key),
    ("witnesses", check_cosignatures),
    ("known checkpoints", check_known_checkpoints),
    ("shards", check_shards),
    ("completeness", check_completeness),
    ("proofs", check_proofs),
    ("consistency", check_consistency_file),
    ("people", check_people),
    ("decisions", check_decisions),
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
    parser.add_argument("--vkey", type=Path, help="the log's verifier key as you hold it (the trust anchor)")
    parser.add_argument(
        "--witness-key", action="append", type=Path, default=[], help="a witness's verifier key file (repeatable)"
    )
    parser.add_argument("--quorum", type=int, default=0, help="cosignatures required (default: one per witness)")
    args = parser.parse_args(argv)
    known = [path.read_text(encoding="utf-8") for path in args.known_checkpoint]
    bundle = Bundle(args.bundle, known, doc=args.doc, quorum=args.quorum)
    try:
        bundle.pinned_vkey = VerifierKey.parse(_lines(args.vkey)[0]) if args.vkey else None
        bundle.witnesses = [Witness.parse(_lines(path)[-1]).key for path in args.witness_key]
    except (VerifyError, OSError, IndexError) as exc:
        print(f"FAIL pinned keys: {exc or 'empty key file'}")
        print("NOT VERIFIED")
        return 1
    ok = run_checks(bundle, checks=DOC_CHECKS if args.doc else None)
    print("VERIFIED" if ok else "NOT VERIFIED")
    return 0 if ok else 1


def _lines(path: Path) -> list[str]:
    """A key file's lines: a log key is the first (ledger.vkey lists the anchor first), a witness key the
    last (the output of ``docval witness init`` can be saved as it is)."""
    return path.read_text(encoding="utf-8").strip().splitlines()


if __name__ == "__main__":
    sys.exit(main())
