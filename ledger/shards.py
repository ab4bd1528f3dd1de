"""Shard ledgers seen from the root: opening them read-only, their keys, and what the root anchored of them.

A shard is an ordinary ledger in ``data_dir/shards/NAME/`` (``docval.shards``
says which settings make one). The root ledger records every shard checkpoint
it folded in as an ``anchor.checkpoint`` entry and every one it refused as
``anchor.refused``; ``anchored_by_shard`` reads them back, for the next anchor
pass (which must extend the last one) and for verify (every anchored
checkpoint must still be a checkpoint of the shard on disk).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from docval.events import AnchorCheckpointPayload, AnchorRefusedPayload, EntryKind
from docval.settings import Settings
from docval.shards import check_shard_name, shard_names, shard_settings
from ledger.bundle_verify import LogState, VerifierKey, _follow_handover
from ledger.errors import LedgerError
from ledger.log import Ledger
from ledger.reader import LedgerReader

__all__ = ["AnchorHistory", "anchored_by_shard", "open_shard", "shard_signer", "shards_in"]

ANCHOR_CHECKPOINT = EntryKind.ANCHOR_CHECKPOINT.value
ANCHOR_REFUSED = EntryKind.ANCHOR_REFUSED.value


def open_shard(settings: Settings, name: str, lock_timeout: float | None = None) -> Ledger:
    """Shard ``name`` of the installation whose (root) settings are given; never creates a missing shard.

    ``lock_timeout`` caps the wait for the shard's file lock (default: ``ledger.lock_timeout_seconds``).
    """
    shard = shard_settings(settings, name)
    if not shard.ledger_db.exists():
        raise LedgerError(f"shard {name}: no ledger at {shard.ledger_db}")
    config = shard.ledger
    if lock_timeout is not None:
        config = config.model_copy(update={"lock_timeout_seconds": min(lock_timeout, config.lock_timeout_seconds)})
    return Ledger(shard.ledger_db, shard.ledger_keys_dir, config)


def shards_in(settings: Settings, names: list[str] | None) -> list[str]:
    """``names`` as given (checked), or every shard found in the data directory."""
    return shard_names(settings) if names is None else [check_shard_name(name) for name in names]


def shard_signer(reader: LedgerReader, anchor: VerifierKey, size: int) -> VerifierKey:
    """The key that must sign the shard's checkpoint of ``size``: handovers followed from the trust anchor.

    Each handover note is signed by both the key in force and its successor, so the chain is checked
    here without walking the shard's entries; verify walks them all.
    """
    rows = reader.con.execute(
        "SELECT seq, body FROM entries WHERE kind = ? AND seq < ? ORDER BY seq", [EntryKind.KEY_ROTATED.value, size]
    ).fetchall()
    state = LogState(key_changes=[(0, anchor)])
    for seq, body in rows:
        failure = _follow_handover(state, seq, orjson.loads(bytes(body))["data"])
        if failure:
            raise LedgerError(f"key history {failure}")
    return state.key_for(size)


@dataclass
class AnchorHistory:
    """One shard as the root ledger knows it: its anchored checkpoints in order and its last refusal."""

    anchored: list[AnchorCheckpointPayload]
    last_refusal: AnchorRefusedPayload | None = None  # only if no checkpoint was anchored after it

    @property
    def last(self) -> AnchorCheckpointPayload | None:
        return self.anchored[-1] if self.anchored else None


def anchored_by_shard(reader: LedgerReader) -> dict[str, AnchorHistory]:
    """Every shard named by an ``anchor.*`` entry of the root ledger on ``reader``, in seq order."""
    rows = reader.con.execute(
        "SELECT seq, kind, body FROM entries WHERE kind IN (?, ?) ORDER BY seq", [ANCHOR_CHECKPOINT, ANCHOR_REFUSED]
    ).fetchall()
    history: dict[str, AnchorHistory] = {}
    for seq, kind, body in rows:
        data = orjson.loads(bytes(body))["data"]
        try:
            if kind == ANCHOR_CHECKPOINT:
                payload = AnchorCheckpointPayload.model_validate(data)
                shard = history.setdefault(payload.shard, AnchorHistory([]))
                shard.anchored.append(payload)
                shard.last_refusal = None
            else:
                refusal = AnchorRefusedPayload.model_validate(data)
                history.setdefault(refusal.shard, AnchorHistory([])).last_refusal = refusal
        except ValueError as exc:
            raise LedgerError(f"root ledger seq {seq}: {kind} entry does not match docval.events ({exc})") from None
    return history
