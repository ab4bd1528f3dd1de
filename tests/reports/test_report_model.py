"""Lineage folding, KPIs, completeness counting and multi-leaf proofs, on synthetic records (no I/O)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docval.domain import DocState
from ledger import Entry
from ledger.bundle_verify import (
    VerifyError,
    count_completeness,
    is_complete,
    leaf_hash,
    verify_inclusion,
)
from ledger.canonical import canonical_json
from reports import ReportError, compute_kpis, fold_entries
from reports.proofs import MemoryTree
from reports.synthetic import synthetic_entries

START = datetime(2026, 11, 1, tzinfo=UTC)


def records(documents: int, seed: int = 7) -> list[Entry]:
    """Synthetic entries as the ledger would hold them (canonical bytes, seq), without a database."""
    entries = synthetic_entries(documents, start=START, seed=seed)
    envelopes = (
        {"seq": seq, "prev": "0" * 64, "ts": e.ts, "kind": e.kind, "doc": e.doc, "actor": e.actor, "data": e.data}
        for seq, e in enumerate(entries)
    )
    return [Entry.from_canonical(canonical_json(envelope)) for envelope in envelopes]


def test_kpis_reconcile_with_states_and_completeness() -> None:
    rows = records(2000)
    facts = fold_entries(rows)
    docs = list(facts.docs.values())
    kpis = compute_kpis(docs, facts.events, facts.events)
    assert kpis.ingested == 2000
    assert kpis.auto_approved + kpis.human_approved + kpis.rejected + kpis.quarantined + kpis.pending == 2000
    assert kpis.auto_approved > kpis.human_approved > 0 and kpis.rejected > 0 and kpis.quarantined > 0
    counts = count_completeness([(r.ts, r.kind, r.doc) for r in rows], "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert is_complete(counts)
    assert counts["published"] == kpis.auto_approved + kpis.human_approved
    assert counts["pending"] == kpis.pending == counts["awaiting_approval"]
    assert kpis.decision_median_s is not None and kpis.decision_p95_s >= kpis.decision_median_s
    assert sum(cost.calls for cost in kpis.tier_costs) > 2000  # local call per extraction + remote escalations
    assert {"invoice-extract", "kyc-extract"} <= kpis.prompt_versions.keys()
    assert {config.name for config in kpis.configs} == {"policy", "roles", "pii", "invoice-extract", "kyc-extract"}
    assert kpis.pii_entities and kpis.findings


def test_conflicting_and_orphaned_documents_make_the_statement_incomplete() -> None:
    rows = [(r.ts, r.kind, r.doc) for r in records(50)]
    published = next(row for row in rows if row[1] == "doc.published")
    rows.append((published[0], "doc.rejected", published[2]))  # a second, different final state
    rows.append((published[0], "doc.published", "f" * 64))  # a document nobody claimed
    counts = count_completeness(rows, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert counts["conflicting"] == 1 and counts["orphaned"] == 1
    assert not is_complete(counts)


def test_documents_outside_the_period_are_not_counted() -> None:
    rows = [(r.ts, r.kind, r.doc) for r in records(100)]
    counts = count_completeness(rows, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
    assert counts["ingested"] == 0 and is_complete(counts)


def test_a_payload_that_does_not_match_its_model_names_the_seq() -> None:
    rows = records(3)
    bad = next(r for r in rows if r.kind == "doc.validated")
    bad.data["findings"] = "not a list"
    with pytest.raises(ReportError, match=f"seq {bad.seq}: doc.validated"):
        fold_entries(rows)


def test_lineage_records_approvers_and_conflicts() -> None:
    facts = fold_entries(records(400))
    approved = [d for d in facts.docs.values() if d.approvals]
    assert approved and all(d.state is DocState.PUBLISHED for d in approved)
    assert any(len(d.approvals) == 2 for d in approved)  # high-risk documents need two approvers
    assert all(d.approvals[0].user != d.approvals[-1].user for d in approved if len(d.approvals) == 2)
    assert not any(d.conflicts for d in facts.docs.values())


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_audit_paths_verify_and_a_changed_path_fails(size: int, data: st.DataObject) -> None:
    tree = MemoryTree([leaf_hash(f"entry {i}".encode()) for i in range(size)])
    index = data.draw(st.integers(0, size - 1))
    leaf, path = tree.levels[0][index], tree.audit_path(index)
    verify_inclusion(index, size, leaf, path, tree.root)
    if path:  # dropping or altering a hash must fail
        with pytest.raises(VerifyError):
            verify_inclusion(index, size, leaf, path[:-1], tree.root)
        with pytest.raises(VerifyError):
            verify_inclusion(index, size, leaf, [*path[:-1], bytes(32)], tree.root)


def test_memory_tree_matches_the_ledger_tree() -> None:
    """Same root as the ledger's own tree code for every size up to 70 (odd splits included)."""
    from ledger.bundle_verify import root_at, tree_levels

    rng = random.Random(3)
    leaves = [leaf_hash(rng.randbytes(rng.randint(1, 40))) for _ in range(70)]
    levels = tree_levels(leaves)
    for size in range(1, 71):
        assert MemoryTree(leaves[:size]).root == root_at(levels, size)
