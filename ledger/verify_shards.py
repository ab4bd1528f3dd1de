"""``docval ledger verify`` over an installation: the root ledger, every shard, and what the root anchored.

Each ledger is verified in full by ``verify_ledger`` (its own file, read-only
under a short shared lock, one after the other so no worker waits on more than
its own shard). On top, every checkpoint the root anchored for a shard is
handed to that shard's verify as one of its own checkpoints: it must be
signed by the key in force at its size and be the root of a prefix of the
shard as it is on disk now, so a shard rolled back or rewritten after it was
anchored fails, naming the shard. A shard the root anchored but whose file is
gone, or whose trust anchor changed, fails too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from docval.settings import Settings
from docval.shards import root_settings, shard_names
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger
from ledger.shards import AnchorHistory, anchored_by_shard, open_shard
from ledger.verify import VerifyReport, verify_ledger

__all__ = ["InstallationReport", "verify_installation"]


@dataclass
class InstallationReport:
    root: VerifyReport
    shards: dict[str, VerifyReport] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.root.ok and all(report.ok for report in self.shards.values())

    def holds(self, *, allow_unsigned_tail: bool = False) -> bool:
        reports = [self.root, *self.shards.values()]
        return all(report.holds(allow_unsigned_tail=allow_unsigned_tail) for report in reports)

    def summary(self, *, allow_unsigned_tail: bool = True) -> str:
        if not self.shards:
            return self.root.summary(allow_unsigned_tail=allow_unsigned_tail)
        lines = [f"root: {self.root.summary(allow_unsigned_tail=allow_unsigned_tail)}"]
        lines += [
            f"shard {name}: {report.summary(allow_unsigned_tail=allow_unsigned_tail)}"
            for name, report in self.shards.items()
        ]
        return "\n".join(lines)


def verify_installation(settings: Settings) -> InstallationReport:
    """Verify the root ledger and every shard found on disk or named by the root (from any shard's settings too)."""
    settings = root_settings(settings)
    root = Ledger.open(settings)
    report = InstallationReport(verify_ledger(root))
    try:
        with root.reader() as reader:
            history = anchored_by_shard(reader)
    except LedgerError as exc:
        history = {}
        report.root = VerifyReport(False, report.root.size, 0, 0, None, "anchor entries", str(exc))
    for name in sorted(set(shard_names(settings)) | history.keys()):
        report.shards[name] = _verify_shard(settings, name, history.get(name, AnchorHistory([])))
    return report


def _verify_shard(settings: Settings, name: str, history: AnchorHistory) -> VerifyReport:
    try:
        shard = open_shard(settings, name)
    except LedgerError as exc:
        return VerifyReport(False, 0, 0, 0, None, "missing shard", f"{exc}, but the root anchored it")
    if history.anchored:
        try:
            anchor = str(load_anchor(shard.keys_dir))
        except LedgerError as exc:
            return VerifyReport(False, 0, 0, 0, None, "keys", str(exc))
        changed = next((p for p in history.anchored if p.vkey != anchor), None)
        if changed is not None:
            reason = f"ledger.vkey is not the trust anchor the root anchored with size {changed.size}"
            return VerifyReport(False, 0, 0, 0, None, "trust anchor", reason)
    return verify_ledger(shard, [payload.checkpoint for payload in history.anchored])
