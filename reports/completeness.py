"""The completeness statement: every document ingested in the period is accounted for, with counts that reconcile.

The counting rules are written once, over plain ``(ts, kind, doc)`` triples
and the standard library only, because the auditor's ``verify.py`` recomputes
the same counts from ``entries.jsonl`` and must reach the same numbers
without docval installed. The statement is a C2SP signed-note body: plain
``key value`` lines, signed with the ledger key, so it cannot be edited
after the fact without the signature failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

__all__ = [
    "COUNT_KEYS",
    "STATEMENT_HEADER",
    "count_completeness",
    "is_complete",
    "parse_statement",
    "statement_body",
]

STATEMENT_HEADER = "docval.completeness/v1"
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

    A document is *published*, *rejected* or *quarantined* by its last terminal
    entry, else *pending* (``awaiting_approval`` once approval was requested,
    ``processing`` before that). *conflicting* documents reached two different
    terminal states; *orphaned* ones have entries in the period but no claim
    anywhere in the ledger. Both mean the ledger does not account for a
    document, so either makes the statement incomplete.
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
        if len(terminal.get(doc, ())) > 1:
            counts["conflicting"] += 1
        if doc in last_terminal:
            counts[last_terminal[doc]] += 1
        else:
            counts["pending"] += 1
            counts["awaiting_approval" if doc in requested else "processing"] += 1
    counts["orphaned"] = len(seen_in_period - claimed.keys())
    return counts


def is_complete(counts: dict[str, int]) -> bool:
    accounted = counts["published"] + counts["rejected"] + counts["quarantined"] + counts["pending"]
    return accounted == counts["ingested"] and counts["conflicting"] == 0 and counts["orphaned"] == 0


def statement_body(
    counts: dict[str, int], *, origin: str, period_from: str, period_to: str, size: int, root_b64: str
) -> str:
    """The signed-note body; every line non-empty, ``\\n``-terminated, as C2SP signed-note requires."""
    lines = [
        STATEMENT_HEADER,
        f"origin {origin}",
        f"period {period_from} {period_to}",
        f"checkpoint {size} {root_b64}",
        *(f"{key} {counts[key]}" for key in COUNT_KEYS),
        f"verdict {'complete' if is_complete(counts) else 'INCOMPLETE'}",
    ]
    return "\n".join(lines) + "\n"


def parse_statement(body: str) -> dict[str, str]:
    """``key -> rest of line`` of a statement body; raises ValueError on anything but the v1 format."""
    lines = body.rstrip("\n").split("\n")
    if not lines or lines[0] != STATEMENT_HEADER:
        raise ValueError(f"not a {STATEMENT_HEADER} statement")
    fields = dict(line.split(" ", 1) for line in lines[1:])
    missing = {"origin", "period", "checkpoint", "verdict", *COUNT_KEYS} - fields.keys()
    if missing:
        raise ValueError(f"statement lacks {', '.join(sorted(missing))}")
    return fields
