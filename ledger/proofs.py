"""Inclusion proofs as C2SP ``tlog-proof`` text: entry index, RFC 9162 audit path, signed checkpoint.

A proof is only useful against a signed tree head, so it is always built for
the latest checkpoint's size; an entry newer than that must wait for the next
checkpoint. ``bundle_verify.verify_tlog_proof`` checks one offline.
"""

from __future__ import annotations

import base64

from ledger.bundle_verify import TLOG_PROOF_HEADER, Checkpoint, split_note
from ledger.errors import LedgerError
from ledger.log import Ledger
from ledger.reader import LedgerReader

__all__ = ["tlog_proof", "tlog_proof_from"]


def tlog_proof(ledger: Ledger, seq: int) -> str:
    with ledger.reader() as reader:
        return tlog_proof_from(reader, seq)


def tlog_proof_from(reader: LedgerReader, seq: int) -> str:
    """The proof of ``seq`` on an open reader (reports write many proofs under one lock)."""
    note = reader.latest_checkpoint()
    if note is None:
        raise LedgerError("the ledger has no checkpoint yet; run `docval ledger checkpoint`")
    size = Checkpoint.parse(split_note(note)[0]).size
    if not 0 <= seq < size:
        raise LedgerError(f"seq {seq} is not covered by the latest checkpoint (size {size})")
    hashes = "".join(base64.b64encode(value).decode() + "\n" for value in reader.inclusion_proof(seq, size))
    return f"{TLOG_PROOF_HEADER}\nindex {seq}\n{hashes}\n{note}"
