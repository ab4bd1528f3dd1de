"""Ledger entries: the draft a caller appends, the stored entry, and the canonical encoding an append hashes.

Kept apart from the database code (``ledger.log``) because this is the byte format DESIGN.md "Ledger format"
fixes: an entry is the RFC 8785 object of its envelope, its leaf hash is SHA-256 of 0x00 || those bytes, and
``prev`` chains each entry to the leaf hash before it. ``encode_entries`` is the loop every append pays for.
"""

from __future__ import annotations

from binascii import hexlify
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import orjson

from docval.events import EntryKind
from ledger import merkle
from ledger.canonical import canonical_json
from ledger.errors import LedgerError

__all__ = ["KEY_ROTATED", "Entry", "EntryDraft", "check_drafts", "encode_entries"]

KEY_ROTATED = EntryKind.KEY_ROTATED.value


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry before the ledger gives it a seq, a prev and a timestamp."""

    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored entry: its fields, its exact canonical bytes (what is hashed and exported) and leaf hash."""

    seq: int
    prev: str
    ts: str
    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any]
    canonical: bytes
    leaf_hash: bytes

    @classmethod
    def from_canonical(cls, body: bytes) -> Entry:
        value = orjson.loads(body)
        return cls(
            value["seq"], value["prev"], value["ts"], value["kind"], value["doc"], value["actor"], value["data"],
            body, merkle.leaf_hash(body),
        )  # fmt: skip


def check_drafts(drafts: list[EntryDraft]) -> None:
    for draft in drafts:
        _check_draft(draft)
        if draft.kind == KEY_ROTATED:
            raise LedgerError("key.rotated entries are written only by `docval keys rotate`")


def _check_draft(draft: EntryDraft) -> None:
    if not isinstance(draft.kind, str) or not draft.kind:
        raise LedgerError("entry kind must be a non-empty string")
    if not isinstance(draft.actor, str) or not draft.actor:
        raise LedgerError(f"{draft.kind}: actor must be a non-empty string")
    if draft.doc is not None and not isinstance(draft.doc, str):
        raise LedgerError(f"{draft.kind}: doc must be a string or None")
    if not isinstance(draft.data, dict):
        raise LedgerError(f"{draft.kind}: data must be an object")


def _draft_prefix(draft: EntryDraft) -> bytes:
    """The canonical bytes of the fields a draft fixes, up to ``"prev":"``.

    RFC 8785 orders the envelope's ASCII keys actor, data, doc, kind, prev, seq, ts, so the canonical
    envelope is the canonical object of the first four with its closing brace replaced by the rest, which
    is plain ASCII (``test_canonical`` checks the result against ``rfc8785.dumps`` of the whole envelope).
    """
    fixed = {"actor": draft.actor, "data": draft.data, "doc": draft.doc, "kind": draft.kind}
    try:
        return canonical_json(fixed)[:-1] + b',"prev":"'
    except Exception as exc:  # rfc8785 raises its own types for floats out of range, bad keys, ...
        raise LedgerError(f"{draft.kind}: data is not canonical-JSON serialisable ({type(exc).__name__})") from None


def encode_entries(first_seq: int, prev: bytes, ts: str, drafts: list[EntryDraft]) -> tuple[list[bytes], list[bytes]]:
    """Canonical bytes and leaf hashes of consecutive entries; ``prev`` is the hex leaf hash before them.

    The loop every appended entry pays for, so it only formats and hashes: seq, prev and ts are ASCII that
    needs no escaping, and the leaf hash (SHA-256 of 0x00 || bytes) is inlined.
    """
    suffix = b'","seq":%d,"ts":"' + ts.encode() + b'"}'
    bodies, leaves = [], []
    for seq, prefix in enumerate(map(_draft_prefix, drafts), start=first_seq):
        body = b"%b%b%b" % (prefix, prev, suffix % seq)
        leaf = sha256(b"\0" + body).digest()
        bodies.append(body)
        leaves.append(leaf)
        prev = hexlify(leaf)
    return bodies, leaves
