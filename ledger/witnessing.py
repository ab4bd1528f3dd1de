"""Getting checkpoints cosigned by the witnesses of ``[ledger] witnesses`` (C2SP tlog-witness, client side).

After a checkpoint is signed, the latest one goes to every witness that has not cosigned it yet, with an
RFC 9162 consistency proof from the size that witness cosigned last (learnt from our own table, or from the
witness's 409 answer when we do not know it, e.g. after a restore of our own file). The cosignature lines
it returns are checked against its pinned key and kept in ``ledger.duckdb.cosignatures`` beside the
database and its checkpoint copy; ``cosigned_note`` puts them back under the note. A witness that is unreachable or
refuses is left alone for a while (1 s, doubling up to 5 min) so a dead witness never slows every batch;
``docval ledger checkpoint`` asks regardless (``force``). A refusal is never worked around: a witness that
answers with a size above ours has seen a history we no longer have.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.bundle_verify import (
    Checkpoint,
    VerifyError,
    Witness,
    add_checkpoint,
    split_note,
)
from ledger.errors import LedgerError
from ledger.log import Ledger
from ledger.reader import LedgerReader

__all__ = [
    "Offer",
    "WitnessStatus",
    "cosignature_lines",
    "cosignatures_path",
    "cosigned_note",
    "prepare",
    "send",
    "submit",
    "witnesses_of",
]

_FIRST_BACKOFF, _MAX_BACKOFF = 1.0, 300.0
_backoff: dict[tuple[str, str], tuple[float, float]] = {}  # (ledger file, witness url) -> (wait, next attempt)


@dataclass(frozen=True)
class WitnessStatus:
    witness: str
    cosigned: bool  # the latest checkpoint carries this witness's cosignature
    detail: str

    def line(self) -> str:
        return f"witness {self.witness}: {'cosigned' if self.cosigned else 'NOT cosigned'} ({self.detail})"


@dataclass(frozen=True)
class Offer:
    """What one witness is sent: read under the ledger's lock, sent after it is released."""

    witness: Witness
    old_size: int
    proof: list[bytes]
    note: str


def witnesses_of(ledger: Ledger) -> list[Witness]:
    try:
        return [Witness.parse(text) for text in ledger.config.witnesses]
    except VerifyError as exc:
        raise LedgerError(f"[ledger] witnesses: {exc}") from None


def cosignatures_path(ledger: Ledger) -> Path:
    """``ledger.duckdb.cosignatures``: one JSON line per cosignature (size, witness key, signature line),
    appended and fsynced outside the database so storing one never takes the ledger's lock."""
    return ledger.db_path.with_name(ledger.db_path.name + ".cosignatures")


def _stored(ledger: Ledger) -> list[dict[str, Any]]:
    path = cosignatures_path(ledger)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cosignature_lines(ledger: Ledger) -> dict[int, list[str]]:
    """The stored cosignature lines by checkpoint size, in the order they came."""
    lines: dict[int, list[str]] = {}
    for row in _stored(ledger):
        lines.setdefault(row["size"], []).append(row["line"])
    return lines


def cosigned_note(note: str, lines: dict[int, list[str]]) -> str:
    """``note`` with the stored cosignatures of its checkpoint appended (a C2SP note with several signatures)."""
    return note + "".join(lines.get(Checkpoint.parse(split_note(note)[0]).size, []))


def submit(ledger: Ledger, *, force: bool = False) -> list[WitnessStatus]:
    """Offer the latest checkpoint to every configured witness that has not cosigned it; one status each."""
    if not ledger.config.witnesses:
        return []
    with ledger.reader() as reader:
        prepared = prepare(ledger, reader, force=force)
    return send(ledger, prepared)


def prepare(ledger: Ledger, reader: LedgerReader, *, force: bool = False) -> list[Offer | WitnessStatus]:
    """Per witness: a status if there is nothing to send (cosigned, or waiting out its backoff), else an offer
    of the latest checkpoint with the consistency proof from the size it cosigned last."""
    note = reader.latest_checkpoint()
    if note is None:
        return []
    body = split_note(note)[0]
    size = Checkpoint.parse(body).size
    stored = _stored(ledger)
    prepared: list[Offer | WitnessStatus] = []
    for witness in witnesses_of(ledger):
        mine = [row for row in stored if row["witness"] == str(witness.key)]
        lines = "".join(row["line"] for row in mine if row["size"] == size)
        if lines and witness.key.cosigned_at(body, split_note(body + "\n" + lines)[1]) is not None:
            prepared.append(WitnessStatus(witness.key.name, True, f"size {size}"))
            continue
        due = _backoff.get(_slot(ledger, witness), (0.0, 0.0))[1]
        if not force and time.monotonic() < due:
            prepared.append(
                WitnessStatus(witness.key.name, False, f"size {size}; next try in {due - time.monotonic():.0f} s")
            )
            continue
        old = max((row["size"] for row in mine if row["size"] <= size), default=0)
        proof = reader.consistency_proof(old, size) if 0 < old < size else []
        prepared.append(Offer(witness, old, proof, note))
    return prepared


def send(ledger: Ledger, prepared: list[Offer | WitnessStatus]) -> list[WitnessStatus]:
    return [item if isinstance(item, WitnessStatus) else _send_one(ledger, item) for item in prepared]


def _slot(ledger: Ledger, witness: Witness) -> tuple[str, str]:
    return str(ledger.db_path), witness.url or str(witness.key)


def _send_one(ledger: Ledger, offer: Offer) -> WitnessStatus:
    name, size = offer.witness.key.name, Checkpoint.parse(split_note(offer.note)[0]).size
    slot = _slot(ledger, offer.witness)
    try:
        line = _cosign(ledger, offer, size)
    except (OSError, VerifyError, LedgerError) as exc:
        wait = min(max(_backoff.get(slot, (0.0, 0.0))[0] * 2, _FIRST_BACKOFF), _MAX_BACKOFF)
        _backoff[slot] = (wait, time.monotonic() + wait)
        return WitnessStatus(name, False, f"size {size}: {exc}; retried in {wait:.0f} s")
    _backoff.pop(slot, None)
    record = json.dumps({"size": size, "witness": str(offer.witness.key), "line": line})
    fd = os.open(cosignatures_path(ledger), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(record + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return WitnessStatus(name, True, f"size {size}")


def _cosign(ledger: Ledger, offer: Offer, size: int) -> str:
    """One add-checkpoint exchange (two if the witness corrects our idea of its size); the checked line."""
    witness, note = offer.witness, offer.note
    if witness.url is None:
        raise LedgerError("no URL configured")
    status, text = add_checkpoint(witness.url, offer.old_size, offer.proof, note)
    if status == 409 and text.strip().isdigit():
        old = int(text)
        if old > size:
            raise VerifyError(f"the witness cosigned size {old}, above this ledger's {size}: history was rolled back")
        proof = ledger.consistency_proof(old, size) if 0 < old < size else []
        status, text = add_checkpoint(witness.url, old, proof, note)
    if status != 200:
        raise VerifyError(f"refused with {status}: {text.strip()[:120]}")
    body = split_note(note)[0]
    for line in (line + "\n" for line in text.splitlines() if line):
        if witness.key.cosigned_at(body, split_note(body + "\n" + line)[1]) is not None:
            return line
    raise VerifyError("the answer holds no valid cosignature by the pinned witness key")
