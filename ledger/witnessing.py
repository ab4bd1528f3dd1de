"""Getting checkpoints cosigned by the witnesses of ``[ledger] witnesses`` (C2SP tlog-witness, client side).

After a checkpoint is signed, the latest one goes to every witness that has not cosigned it yet, with an
RFC 9162 consistency proof from the size that witness cosigned last (learnt from our own table, or from the
witness's 409 answer when we do not know it, e.g. after a restore of our own file). The cosignature lines
it returns are checked against its pinned key and kept in the ledger's ``cosignatures`` table, beside the
checkpoint they sign; ``cosigned_note`` puts them back under the note. A witness that is unreachable or
refuses is left alone for a while (1 s, doubling up to 5 min) so a dead witness never slows every batch;
``docval ledger checkpoint`` asks regardless (``force``). A refusal is never worked around: a witness that
answers with a size above ours has seen a history we no longer have.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from ledger.bundle_verify import (
    Checkpoint,
    VerifyError,
    Witness,
    add_checkpoint,
    split_note,
)
from ledger.errors import LedgerError
from ledger.log import Ledger, LedgerReader

__all__ = ["WitnessStatus", "cosignature_lines", "cosigned_note", "submit", "witnesses_of"]

_TABLE = "CREATE TABLE IF NOT EXISTS cosignatures (size BIGINT NOT NULL, witness VARCHAR NOT NULL, line VARCHAR)"
_FIRST_BACKOFF, _MAX_BACKOFF = 1.0, 300.0
_backoff: dict[tuple[str, str], tuple[float, float]] = {}  # (ledger file, witness url) -> (wait, next attempt)


@dataclass(frozen=True)
class WitnessStatus:
    witness: str
    cosigned: bool  # the latest checkpoint carries this witness's cosignature
    detail: str

    def line(self) -> str:
        return f"witness {self.witness}: {'cosigned' if self.cosigned else 'NOT cosigned'} ({self.detail})"


def witnesses_of(ledger: Ledger) -> list[Witness]:
    try:
        return [Witness.parse(text) for text in ledger.config.witnesses]
    except VerifyError as exc:
        raise LedgerError(f"[ledger] witnesses: {exc}") from None


def cosignature_lines(reader: LedgerReader, size: int) -> list[str]:
    """The stored cosignature lines of the checkpoint of ``size``, in the order they came."""
    if not _has_table(reader.con):
        return []
    rows = reader.con.execute("SELECT line FROM cosignatures WHERE size = ? ORDER BY rowid", [size]).fetchall()
    return [line for (line,) in rows]


def cosigned_note(reader: LedgerReader, note: str) -> str:
    """``note`` with the stored cosignatures of its checkpoint appended (a C2SP note with several signatures)."""
    size = Checkpoint.parse(split_note(note)[0]).size
    return note + "".join(cosignature_lines(reader, size))


def submit(ledger: Ledger, *, force: bool = False) -> list[WitnessStatus]:
    """Offer the latest checkpoint to every configured witness that has not cosigned it; one status each."""
    witnesses = witnesses_of(ledger)
    if not witnesses:
        return []
    with ledger.reader() as reader:
        note = reader.latest_checkpoint()
        if note is None:
            return []
        stored = cosignature_lines(reader, Checkpoint.parse(split_note(note)[0]).size)
    return [_submit_one(ledger, witness, note, stored, force) for witness in witnesses]


def _submit_one(ledger: Ledger, witness: Witness, note: str, stored: list[str], force: bool) -> WitnessStatus:
    body = split_note(note)[0]
    size = Checkpoint.parse(body).size
    name = witness.key.name
    if witness.key.cosigned_at(body, split_note(body + "\n" + "".join(stored))[1] if stored else []) is not None:
        return WitnessStatus(name, True, f"size {size}")
    slot = (str(ledger.db_path), witness.url or "")
    wait, due = _backoff.get(slot, (0.0, 0.0))
    if not force and time.monotonic() < due:
        return WitnessStatus(name, False, f"size {size} waits; next try in {due - time.monotonic():.0f} s")
    try:
        line = _cosign(ledger, witness, note, size)
    except (OSError, VerifyError, LedgerError) as exc:
        wait = min(max(wait * 2, _FIRST_BACKOFF), _MAX_BACKOFF)
        _backoff[slot] = (wait, time.monotonic() + wait)
        return WitnessStatus(name, False, f"size {size}: {exc}; retried in {wait:.0f} s")
    _backoff.pop(slot, None)
    with ledger._write() as con:
        con.execute(_TABLE)
        con.execute("INSERT INTO cosignatures VALUES (?, ?, ?)", [size, str(witness.key), line])
    return WitnessStatus(name, True, f"size {size}")


def _cosign(ledger: Ledger, witness: Witness, note: str, size: int) -> str:
    """One add-checkpoint exchange (two if the witness corrects our idea of its size); the checked line."""
    if witness.url is None:
        raise LedgerError("no URL configured")
    old = _last_cosigned(ledger, witness)
    status, text = _offer(ledger, witness.url, old, size, note)
    if status == 409 and text.strip().isdigit():
        old = int(text)
        if old > size:
            raise VerifyError(f"the witness cosigned size {old}, above this ledger's {size}: history was rolled back")
        status, text = _offer(ledger, witness.url, old, size, note)
    if status != 200:
        raise VerifyError(f"refused with {status}: {text.strip()[:120]}")
    body = split_note(note)[0]
    lines = [line + "\n" for line in text.splitlines() if line]
    for line in lines:
        if witness.key.cosigned_at(body, split_note(body + "\n" + line)[1]) is not None:
            return line
    raise VerifyError("the answer holds no valid cosignature by the pinned witness key")


def _offer(ledger: Ledger, url: str, old: int, size: int, note: str) -> tuple[int, str]:
    proof = ledger.consistency_proof(old, size) if 0 < old < size else []
    return add_checkpoint(url, old, proof, note)


def _last_cosigned(ledger: Ledger, witness: Witness) -> int:
    with ledger.reader() as reader:
        if not _has_table(reader.con):
            return 0
        row = reader.con.execute("SELECT max(size) FROM cosignatures WHERE witness = ?", [str(witness.key)]).fetchall()[
            0
        ]
    return row[0] or 0


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    query = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cosignatures'"
    return con.execute(query).fetchall()[0][0] == 1
