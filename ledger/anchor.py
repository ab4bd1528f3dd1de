"""The anchor pass: fold every shard's latest signed checkpoint into the root ledger, then sign the root.

For each shard (found under ``data_dir/shards/*/`` or named), under one
short read of the shard file: its latest checkpoint, the key that must have
signed it (handovers followed from the shard's ``ledger.vkey``) and the RFC
9162 consistency proof from the size the root anchored last. Then, with no
shard lock held: origin, signature and trust anchor are checked, and the
proof is verified with the same ``verify_consistency`` the auditors' script
runs. A checkpoint that extends the last anchored one becomes an
``anchor.checkpoint`` entry (note, keys, proof); one that is shorter
(rollback), differs at the same size or fails the proof (fork), is badly
signed or carries another origin becomes an ``anchor.refused`` entry and the
pass reports it — never skipped in silence. A refusal is recorded once per
offered checkpoint, not again every pass. A shard whose file is locked for
longer than the lock timeout is reported busy and tried on the next pass.

The whole pass runs in one write transaction on the root (``append_with``),
so two passes cannot anchor against the same previous checkpoint, and ends
with one root checkpoint that commits to every shard checkpoint anchored.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Literal

from docval.errors import StoreBusyError
from docval.events import AnchorCheckpointPayload, AnchorRefusedPayload, EntryKind
from docval.settings import Settings
from docval.shards import root_settings, shard_settings
from ledger.bundle_verify import Checkpoint, VerifierKey, VerifyError, open_note, split_note, verify_consistency
from ledger.entries import EntryDraft
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger
from ledger.reader import LedgerReader
from ledger.shards import AnchorHistory, anchored_by_shard, open_shard, shard_signer, shards_in

__all__ = ["AnchorReport", "ShardOutcome", "anchor_shards"]

ACTOR = "anchor"
# A worker holds its shard's lock for about ledger.writer_hold_seconds plus one batch; waiting much longer
# would keep the root locked for nothing: the shard is reported busy and anchored on the next pass.
SHARD_WAIT_SECONDS = 5.0
Status = Literal["anchored", "unchanged", "empty", "busy", "refused"]


@dataclass(frozen=True)
class ShardOutcome:
    shard: str
    status: Status
    size: int  # the shard's anchored size after this pass
    detail: str = ""

    def line(self) -> str:
        return f"shard {self.shard}: {self.status} at size {self.size}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class AnchorReport:
    outcomes: list[ShardOutcome] = field(default_factory=list)
    root_checkpoint: str | None = None

    @property
    def refused(self) -> list[ShardOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "refused"]

    def summary(self) -> str:
        lines = [outcome.line() for outcome in self.outcomes] or ["no shards found"]
        if self.root_checkpoint:
            root = Checkpoint.parse(split_note(self.root_checkpoint)[0])
            lines.append(f"root checkpoint: {root.origin} size {root.size}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Offer:
    """What one short read of a shard yields."""

    note: str
    checkpoint: Checkpoint
    vkey: str
    signer: str
    proof: list[bytes]


class _Refused(Exception):
    def __init__(self, reason: str, detail: str, checkpoint: Checkpoint | None = None) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.checkpoint = reason, detail, checkpoint


def anchor_shards(settings: Settings, names: list[str] | None = None) -> AnchorReport:
    """One anchor pass over ``names`` (default: every shard in the data directory) into the root ledger.

    ``settings`` may be a shard worker's: the pass always writes the root (``root_settings``).
    """
    settings = root_settings(settings)
    report = AnchorReport()
    shards = shards_in(settings, names)
    if not shards:
        return report  # a single-machine install: the root ledger is left alone

    def build(reader: LedgerReader) -> list[EntryDraft]:
        history = anchored_by_shard(reader)
        drafts: list[EntryDraft] = []
        for name in shards:
            outcome, draft = _anchor_one(settings, name, history.get(name, AnchorHistory([])))
            report.outcomes.append(outcome)
            drafts += [draft] if draft else []
        return drafts

    root = Ledger.open(settings)
    root.append_with(build)
    report.root_checkpoint = root.latest_checkpoint()
    return report


def _anchor_one(settings: Settings, name: str, history: AnchorHistory) -> tuple[ShardOutcome, EntryDraft | None]:
    previous = history.last
    anchored_size = previous.size if previous else 0
    try:
        offer = _read_offer(settings, name, previous)
        if offer is None:
            return ShardOutcome(name, "empty", anchored_size, "no signed checkpoint yet"), None
        _check_offer(shard_settings(settings, name).ledger.origin, offer, previous)
    except StoreBusyError as exc:
        return ShardOutcome(name, "busy", anchored_size, str(exc)), None
    except _Refused as refused:
        return _refusal(name, settings, history, anchored_size, refused)
    if previous and offer.checkpoint.size == previous.size:
        return ShardOutcome(name, "unchanged", anchored_size), None
    payload = AnchorCheckpointPayload(
        shard=name, origin=offer.checkpoint.origin, size=offer.checkpoint.size, root=_b64(offer.checkpoint.root),
        checkpoint=offer.note, vkey=offer.vkey, signer=offer.signer, previous_size=anchored_size,
        consistency=[_b64(node) for node in offer.proof],
    )  # fmt: skip
    draft = EntryDraft(EntryKind.ANCHOR_CHECKPOINT.value, None, ACTOR, payload.model_dump(mode="json"))
    return ShardOutcome(name, "anchored", offer.checkpoint.size, f"from {anchored_size}"), draft


def _read_offer(settings: Settings, name: str, previous: AnchorCheckpointPayload | None) -> _Offer | None:
    """The shard's latest checkpoint, its signer and the consistency proof, under one short shared lock."""
    try:
        shard = open_shard(settings, name, SHARD_WAIT_SECONDS)
        vkey = load_anchor(shard.keys_dir)
        with shard.reader() as reader:
            note = reader.latest_checkpoint()
            if note is None:
                return None
            checkpoint = _parse(note)
            signer = shard_signer(reader, vkey, checkpoint.size)
            extends = previous is not None and previous.size < checkpoint.size
            proof = reader.consistency_proof(previous.size, checkpoint.size) if extends else []
    except LedgerError as exc:
        raise _Refused("UNREADABLE", str(exc)) from None
    return _Offer(note, checkpoint, str(vkey), str(signer), proof)


def _parse(note: str) -> Checkpoint:
    try:
        return Checkpoint.parse(split_note(note)[0])
    except VerifyError as exc:
        raise _Refused("SIGNATURE", f"latest checkpoint is not a signed checkpoint: {exc}") from None


def _check_offer(origin: str, offer: _Offer, previous: AnchorCheckpointPayload | None) -> None:
    checkpoint = offer.checkpoint
    if checkpoint.origin != origin:
        raise _Refused("ORIGIN", f"checkpoint origin {checkpoint.origin!r}, expected {origin!r}", checkpoint)
    try:
        open_note(offer.note, VerifierKey.parse(offer.signer))
    except VerifyError as exc:
        raise _Refused("SIGNATURE", f"checkpoint of size {checkpoint.size}: {exc}", checkpoint) from None
    if previous is None:
        return
    if offer.vkey != previous.vkey:
        raise _Refused("TRUST_ANCHOR", "ledger.vkey is not the trust anchor anchored before", checkpoint)
    if checkpoint.size < previous.size:
        raise _Refused(
            "ROLLBACK", f"latest checkpoint has {checkpoint.size} entries, {previous.size} were anchored", checkpoint
        )
    old_root = base64.b64decode(previous.root)
    try:
        verify_consistency(previous.size, checkpoint.size, offer.proof, old_root, checkpoint.root)
    except VerifyError as exc:
        raise _Refused(
            "FORK", f"checkpoint of size {checkpoint.size} does not extend anchored size {previous.size}: {exc}",
            checkpoint,
        ) from None  # fmt: skip


def _refusal(
    name: str, settings: Settings, history: AnchorHistory, anchored_size: int, refused: _Refused
) -> tuple[ShardOutcome, EntryDraft | None]:
    """The outcome, and an ``anchor.refused`` entry unless the same checkpoint was refused last time."""
    offered = refused.checkpoint
    payload = AnchorRefusedPayload(
        shard=name, origin=shard_settings(settings, name).ledger.origin, reason=refused.reason,
        detail=refused.detail, anchored_size=anchored_size, offered_size=offered.size if offered else None,
        offered_root=_b64(offered.root) if offered else None,
    )  # fmt: skip
    outcome = ShardOutcome(name, "refused", anchored_size, f"{refused.reason}: {refused.detail}")
    if history.last_refusal == payload:
        return outcome, None
    return outcome, EntryDraft(EntryKind.ANCHOR_REFUSED.value, None, ACTOR, payload.model_dump(mode="json"))


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
