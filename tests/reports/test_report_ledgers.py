"""The report's one fold over root + shards (reports.ledgers) against the validated fold, on random multi-shard ledgers.

The ledgers are built in memory (canonical entry bytes, per-ledger seqs, each ledger in time order as its
lock makes it): what ``fold_parts`` reads of a real ledger or bundle, without a database per example.
"""

from __future__ import annotations

import random
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reporthelpers import Draft, lifecycle_drafts

from docval.events import EntryKind
from ledger import Entry
from ledger.bundle_verify import Checkpoint, leaf_hash, ordered_rows
from ledger.canonical import canonical_json
from reports import compute_kpis, fold_entries
from reports.ledgers import ROOT, LedgerPart, fold_parts
from reports.lineage import LedgerFacts
from reports.proofs import MemoryTree


@cache
def _every_kind() -> list[Draft]:
    """One entry of each kind, payloads as docval writes them: a ledger large enough to hold every kind."""
    first: dict[str, Draft] = {}
    for draft in lifecycle_drafts(2000, 7, every_kind=True):
        first.setdefault(draft[1], draft)
    return list(first.values())


def _split(drafts: list[Draft], ledgers: int, stay: float, rng: random.Random) -> list[list[Entry]]:
    """Each entry into its document's home ledger with probability ``stay``, else into any ledger.

    So documents span ledgers as they do in a cluster (claimed on one worker, approved on another) and
    beyond; the drafts are sorted by time first, so every ledger is in time order.
    """
    homes: dict[str | None, int] = {}
    split: list[list[Entry]] = [[] for _ in range(ledgers)]
    for ts, kind, doc, actor, data in sorted(drafts, key=lambda draft: draft[0]):
        home = homes.setdefault(doc, rng.randrange(ledgers))
        entries = split[home if rng.random() < stay else rng.randrange(ledgers)]
        envelope = {"seq": len(entries), "prev": "0" * 64, "ts": ts, "kind": kind, "doc": doc, "actor": actor}
        entries.append(Entry.from_canonical(canonical_json({**envelope, "data": data})))
    return split


def _part(name: str, entries: list[Entry]) -> LedgerPart:
    tree = MemoryTree([leaf_hash(entry.canonical) for entry in entries])
    checkpoint = Checkpoint(f"example.org/{name}", len(entries), tree.root)
    return LedgerPart(name, checkpoint.body(), checkpoint, [entry.canonical for entry in entries])


def _facts_agree(fast: LedgerFacts, validated: LedgerFacts) -> None:
    assert fast.docs == validated.docs and fast.entries == validated.entries
    assert [(e.seq, e.ts, e.kind, e.doc, e.payload) for e in fast.events] == [
        (e.seq, e.ts, e.kind, e.doc, e.payload) for e in validated.events
    ]
    assert compute_kpis(list(fast.docs.values()), fast.events, fast.events) == compute_kpis(
        list(validated.docs.values()), validated.events, validated.events
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents=st.integers(1, 120),
    seed=st.integers(0, 2**32),
    shards=st.integers(0, 3),
    stay=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
    rng=st.randoms(use_true_random=False),
)
def test_fast_fold_over_shards_equals_the_validated_fold(
    documents: int, seed: int, shards: int, stay: float, rng: random.Random
) -> None:
    drafts = lifecycle_drafts(documents, seed) + _every_kind()
    ledgers = _split(drafts, shards + 1, stay, rng)
    names = [ROOT, *(f"w{number}" for number in range(1, shards + 1))]
    parts = [_part(name, entries) for name, entries in zip(names, ledgers, strict=True)]

    fast = fold_parts(parts)

    # The validated fold over Entry objects, in the order the auditor's verify.py counts them:
    # by time, ties root first then shards by name (a stable sort of the ledgers one after another).
    in_time_order = sorted((entry for entries in ledgers for entry in entries), key=lambda entry: entry.ts)
    _facts_agree(fast, fold_entries(in_time_order))
    assert fast.entries == len(drafts) and {kind for _, kind, *_ in drafts} == set(EntryKind)
    for part, entries in zip(parts, ledgers, strict=True):
        assert part.rows == [(entry.ts, entry.kind, entry.doc) for entry in entries]
    assert ordered_rows(part.rows for part in parts) == [(entry.ts, entry.kind, entry.doc) for entry in in_time_order]


def test_a_document_claimed_on_one_shard_and_decided_on_another_folds_as_one_lineage() -> None:
    drafts = lifecycle_drafts(40, 3)
    ledgers = _split(drafts, 3, 0.5, random.Random(5))
    parts = [_part(name, entries) for name, entries in zip([ROOT, "w1", "w2"], ledgers, strict=True)]
    facts = fold_parts(parts)
    homes = {doc: {part.name for part in parts if any(row[2] == doc for row in part.rows)} for doc in facts.docs}
    spanning = [doc for doc, found in homes.items() if len(found) > 1]
    assert spanning and all(facts.docs[doc].claimed_at is not None for doc in spanning)
    assert sum(len(lineage.steps) for lineage in facts.docs.values()) == sum(1 for d in drafts if d[2] is not None)


def test_seqs_repeat_across_shards_so_events_are_named_by_shard_and_seq() -> None:
    """Policy v1 then v2 before the period (root seqs 2 and 3), an exception at seq 2 of shard w1 in the period.

    Seqs count per ledger: naming an entry by its seq alone made v1 look like a change during the period.
    """
    from datetime import UTC, datetime

    from docval.events import ConfigAppliedPayload, QuarantinedPayload
    from reports.content import _exceptions
    from reports.lineage import LedgerEvent

    def config(seq: int, version: str, day: int) -> LedgerEvent:
        payload = ConfigAppliedPayload(name="policy", version=version, sha256=version * 32)
        return LedgerEvent(seq, datetime(2026, 11, day, tzinfo=UTC), EntryKind.CONFIG_APPLIED, None, "erin", payload)

    payload = QuarantinedPayload(reason="NOT_PDF", stage="ingest", detail="header")
    exception = LedgerEvent(2, datetime(2026, 11, 20, tzinfo=UTC), EntryKind.QUARANTINED, "d" * 64, "w", payload, "w1")
    events = [config(2, "v1", 1), config(3, "v2", 2), exception]

    kpis = compute_kpis([], [exception], events)

    assert [(c.name, c.version) for c in kpis.configs] == [("policy", "v2")]  # in force at the start, no change
    assert [row.seq for row in _exceptions(events)] == ["w1 2"]
