"""``docval ledger verify --vkey/--witness-key/--quorum``: the checks that rest on keys the auditor holds.

``verify_ledger`` proves the log consistent with itself and with the keys in the data directory, which the
operator controls: a history rebuilt and re-signed with a new key and a new ``ledger.vkey`` is consistent
too, and so is an older copy of the whole directory. What the operator cannot make is a signature by a key
they do not have, so on top, with the auditor's pins:

- the ledger's trust anchor must be the pinned log key (later keys are reached through the signed
  handovers that ``verify_ledger`` checks), and
- its latest checkpoint must carry cosignatures by ``quorum`` of the pinned witnesses (with
  ``--allow-unsigned-tail``: some checkpoint must), and
- every reachable witness is asked the size it last cosigned for this origin (the 409 answer of a C2SP
  add-checkpoint from old size 0): a ledger whose latest checkpoint is smaller was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.bundle_verify import (
    Checkpoint,
    VerifierKey,
    VerifyError,
    Witness,
    count_cosigners,
    split_note,
    witnessed_size,
)
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger
from ledger.witnessing import cosignature_lines, cosigned_note, witnesses_of

__all__ = ["PinReport", "verify_pins"]


@dataclass
class PinReport:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        return [f"FAILED {failure}" for failure in self.failures] + self.notes


def verify_pins(
    ledger: Ledger,
    vkey: VerifierKey | None,
    witnesses: list[Witness],
    quorum: int = 0,
    *,
    allow_unsigned_tail: bool = False,
) -> PinReport:
    report = PinReport()
    if vkey is not None:
        _check_anchor(ledger, vkey, report)
    if witnesses:
        witnesses = _with_urls(ledger, witnesses)
        required = quorum or len(witnesses)
        if required > len(witnesses):
            report.failures.append(f"quorum: {required} cosignatures required but {len(witnesses)} witness keys given")
            return report
        latest = _check_cosigned(ledger, witnesses, required, allow_unsigned_tail, report)
        if latest is not None:
            _ask_witnesses(witnesses, latest, report)
    return report


def _check_anchor(ledger: Ledger, vkey: VerifierKey, report: PinReport) -> None:
    try:
        anchor = load_anchor(ledger.keys_dir)
    except LedgerError as exc:
        report.failures.append(f"pinned key: {exc}")
        return
    if str(anchor) != str(vkey):
        report.failures.append(
            f"pinned key: the ledger's trust anchor is {anchor.name}+{anchor.key_id.hex()}, not the pinned "
            f"{vkey.name}+{vkey.key_id.hex()} (history re-signed with another key?)"
        )
    else:
        report.notes.append(f"pinned key {vkey.name}+{vkey.key_id.hex()} is the ledger's trust anchor")


def _with_urls(ledger: Ledger, witnesses: list[Witness]) -> list[Witness]:
    """A pinned witness without a URL is asked at the URL docval.toml gives for the same key, if any."""
    configured = {str(witness.key): witness.url for witness in witnesses_of(ledger)}
    return [Witness(w.key, w.url or configured.get(str(w.key))) for w in witnesses]


def _check_cosigned(
    ledger: Ledger, witnesses: list[Witness], required: int, allow_unsigned_tail: bool, report: PinReport
) -> str | None:
    """The latest checkpoint (or, if allowed, the latest that is) must be cosigned by ``required`` witnesses."""
    keys = [witness.key for witness in witnesses]
    notes = sorted(ledger.checkpoints(), key=_size, reverse=True)
    if not notes:
        report.failures.append("witnesses: the ledger has no checkpoint")
        return None
    lines = cosignature_lines(ledger)
    cosigned = [(note, count_cosigners(cosigned_note(note, lines), keys)) for note in notes]
    latest_size = _size(notes[0])
    for note, names in cosigned:
        if len(names) >= required:
            if note is notes[0] or allow_unsigned_tail:
                tail = _size(notes[0]) - _size(note)
                later = f"; {tail} later entries not yet cosigned (allowed)" if tail else ""
                report.notes.append(f"checkpoint of size {_size(note)} cosigned by {', '.join(names)}{later}")
                return notes[0]
            break
    found = len(cosigned[0][1])
    report.failures.append(
        f"witnesses: the latest checkpoint (size {latest_size}) is cosigned by {found} of the {required} "
        "witnesses required (not yet submitted, or refused as a rollback or fork)"
    )
    return notes[0]


def _ask_witnesses(witnesses: list[Witness], latest: str, report: PinReport) -> None:
    size = _size(latest)
    for witness in witnesses:
        if witness.url is None:
            report.notes.append(f"witness {witness.key.name}: no URL, not asked for its size")
            continue
        try:
            seen = witnessed_size(witness.url, latest)
        except (OSError, VerifyError) as exc:
            report.notes.append(f"witness {witness.key.name} unreachable or refused ({exc}): not asked")
            continue
        if seen > size:
            report.failures.append(
                f"rollback: witness {witness.key.name} cosigned size {seen}, the ledger's latest checkpoint has {size}"
            )
        else:
            report.notes.append(f"witness {witness.key.name} last cosigned size {seen}")


def _size(note: str) -> int:
    return Checkpoint.parse(split_note(note)[0]).size
