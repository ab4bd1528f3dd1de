"""Recording decisions: every route by which one person (or the operator) could count twice is refused."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from approvalcheck import People, new_round, sshsig, wait_for_approval

from approvals.record import record_decision
from approvals.roles import Role


def decide(people: People, doc: str, signer: str, decision: str = "approve", *, key_of: str | None = None, **kw):
    statement = people.statement(doc, signer, decision, **kw)
    return record_decision(people.ledger, statement, sshsig(people.key(key_of or signer), statement.message()))


def test_two_distinct_reviewers_decide_a_four_eyes_document(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    first = decide(people, doc, "bob")
    assert first.accepted and first.state.outcome is None and first.state.waiting
    second = decide(people, doc, "carol")
    assert second.accepted and second.state.outcome == "publish"
    assert [c.person for c in second.state.approvals] == ["bob", "carol"]
    entry = people.ledger.entries_for_doc(doc)[-1]
    assert entry.kind == "approval.granted" and entry.actor == "carol" and entry.data["role"] == "reviewer"


def test_the_same_person_twice_is_refused_and_ledgered(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    assert decide(people, doc, "bob").accepted
    again = decide(people, doc, "bob")
    assert not again.accepted and "already decided" in again.reasons[0]
    assert again.state.outcome is None
    refused = people.ledger.entries_for_doc(doc)[-1]
    assert refused.kind == "approval.refused" and refused.data["refused_because"] == again.reasons


def test_a_captured_signature_replayed_is_refused(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    statement = people.statement(doc, "bob")
    signature = sshsig(people.key("bob"), statement.message())
    assert record_decision(people.ledger, statement, signature).accepted
    assert not record_decision(people.ledger, statement, signature).accepted


def test_a_signature_cannot_move_to_another_document_or_a_later_round(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    other = wait_for_approval(people.ledger, maker="alice")
    statement = people.statement(doc, "bob")
    signature = sshsig(people.key("bob"), statement.message())
    assert record_decision(people.ledger, statement, signature).accepted
    moved = statement.model_copy(update={"doc": other})
    assert "signature not valid" in " ".join(record_decision(people.ledger, moved, signature).reasons)
    people.ledger.append_many([new_round(doc)])  # a correction opens a new round: bob's approval stops counting
    stale = record_decision(people.ledger, statement, signature)
    assert not stale.accepted and "earlier approval round" in " ".join(stale.reasons)
    assert stale.state.approvals == ()


def test_the_maker_cannot_approve_even_with_a_reviewer_role(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    result = decide(people, doc, "alice")
    assert not result.accepted and "submitted this document" in result.reasons[0]


def test_the_operator_cannot_sign_as_someone_else(people: People) -> None:
    """A key the operator holds (here: the maker's, or a fresh one) never passes for a reviewer's."""
    doc = wait_for_approval(people.ledger, maker="alice")
    for key_of in ("alice", "operator"):
        result = decide(people, doc, "carol", key_of=key_of)
        assert not result.accepted and "signature not valid for carol" in result.reasons[0]
    assert decide(people, doc, "carol").accepted


def test_an_unenrolled_or_demoted_person_cannot_decide(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    assert "not enrolled" in decide(people, doc, "mallory").reasons[0]
    people.enrol("set-roles", "bob", [Role.SUBMITTER], signers=["erin"])
    assert "does not hold the role" in decide(people, doc, "bob").reasons[0]
    people.enrol("remove", "carol", [], signers=["erin"])
    assert "not enrolled" in decide(people, doc, "carol").reasons[0]


def test_past_the_deadline_only_a_senior_reviewer_decides(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice", required=1, deadline_in=-1)
    assert "senior_reviewer" in decide(people, doc, "bob").reasons[0]
    result = decide(people, doc, "dave")
    assert result.accepted and result.state.approvals[0].role is Role.SENIOR_REVIEWER


def test_a_rejection_ends_the_round_and_nothing_counts_after_it(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    assert decide(people, doc, "bob", "reject").state.outcome == "reject"
    assert "already decided (reject)" in decide(people, doc, "carol").reasons[0]


def test_a_statement_dated_in_the_future_is_refused(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert "future" in decide(people, doc, "bob", signed_at=later).reasons[0]


def test_two_concurrent_decisions_by_one_person_count_once(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    statements = [people.statement(doc, "bob", reason=f"race {i}") for i in range(4)]
    signed = [(s, sshsig(people.key("bob"), s.message())) for s in statements]
    results = []
    threads = [
        threading.Thread(target=lambda s=s, g=g: results.append(record_decision(people.ledger, s, g)))
        for s, g in signed
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.accepted for r in results) == [False, False, False, True]
    assert [c.person for c in decide(people, doc, "carol").state.approvals] == ["bob", "carol"]
