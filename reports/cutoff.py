"""Where a report's evidence stops, and which documents of the period lie beyond it.

A report is based on one signed root checkpoint and proves only what that
checkpoint covers. A report run while documents flow used to read up to the
newest checkpoint and call itself COMPLETE while the ledger already held
documents claimed after it. So, before it reads, a report *seals* the
ledgers: every shard signs a checkpoint over its unsigned entries, one anchor
pass folds those into the root, and the root signs over everything it holds.
Then nothing claimed before the report started is left outside.

Where sealing is impossible (no signing key on this machine, a ledger locked
by a writer for longer than the lock timeout) the report still runs, states
why and where its cutoff is, and counts every document of the period claimed
after the cutoff as not covered: the verdict is then INCOMPLETE. A report
never reads entries it cannot prove, and never stays silent about ones it did
not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from docval.errors import DocvalError
from docval.events import EntryKind
from docval.settings import Settings
from docval.shards import shard_names
from ledger import Ledger
from ledger.anchor import anchor_shards
from ledger.shards import open_shard
from reports.lineage import parse_ts

__all__ = ["Cutoff", "beyond", "seal"]


@dataclass(slots=True)
class Cutoff:
    """What the report could not cover: why it could not seal, and the documents claimed after its cutoff."""

    sealed: bool
    reason: str | None = None
    uncovered: dict[str, list[str]] = field(default_factory=dict)  # ledger name -> doc ids claimed in the period

    @property
    def uncovered_count(self) -> int:
        return sum(len(docs) for docs in self.uncovered.values())

    def problems(self) -> list[str]:
        """One line per ledger with uncovered documents, the way the report and the CLI print them."""
        return [
            f"{len(docs)} document(s) claimed in the period are in ledger {name} after the report's cutoff; "
            "they are not covered: run the report again once they are signed"
            for name, docs in sorted(self.uncovered.items())
        ]


def seal(settings: Settings, ledger: Ledger) -> str | None:
    """Sign every unsigned entry of every shard and of the root, anchoring the shards in between.

    Returns None when everything is signed, else one line saying what could not be. Each ledger is tried
    on its own and errors are caught on purpose: a report that cannot seal one ledger still seals the
    others, reports, and says what it left out (see the module docstring).
    """
    problems: list[str] = []

    def attempt(what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except (DocvalError, OSError) as exc:
            problems.append(f"{what}: {exc}")

    names = shard_names(settings)
    for name in names:
        shard = open_shard(settings, name)
        attempt(f"shard {name}", lambda shard=shard: shard.size() and shard.checkpoint())
    if names:
        attempt("anchor", lambda: problems.extend(outcome.line() for outcome in anchor_shards(settings, names).refused))
    attempt("root", lambda: ledger.size() and ledger.checkpoint())
    return f"could not sign a fresh checkpoint ({'; '.join(problems)})" if problems else None


def beyond(ledger: Ledger, size: int, start: datetime, end: datetime) -> list[str]:
    """Documents whose ``doc.claimed`` entry is at seq >= ``size`` and whose claim time is in ``[start, end)``."""
    return [
        entry.doc
        for entry in ledger.entries(size)
        if entry.kind == EntryKind.CLAIMED and entry.doc and start <= parse_ts(entry.ts) < end
    ]
