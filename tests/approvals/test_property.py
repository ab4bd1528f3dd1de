"""Property: no sequence of attempts publishes a document with fewer than N distinct, allowed persons."""

from __future__ import annotations

from approvalcheck import People, new_round, sshsig, wait_for_approval
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals.record import read_roster, record_decision
from approvals.roles import DECIDING_ROLES

SIGNERS = ["alice", "bob", "carol", "dave", "mallory"]  # alice is the maker; mallory is not enrolled
ATTEMPT = st.tuples(
    st.sampled_from(SIGNERS),  # who the statement names
    st.sampled_from(SIGNERS),  # whose key signs it
    st.sampled_from(["approve", "reject"]),
    st.sampled_from(["current", "replay", "new_round"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(required=st.integers(min_value=1, max_value=3), attempts=st.lists(ATTEMPT, max_size=6))
def test_no_sequence_of_attempts_publishes_with_fewer_than_n_persons(people: People, required, attempts) -> None:
    ledger = people.ledger
    doc = wait_for_approval(ledger, maker="alice", required=required)
    captured = []
    for named, key_of, decision, move in attempts:
        if move == "new_round":
            ledger.append_many([new_round(doc, required=required)])
            continue
        if move == "replay" and captured:
            statement, signature = captured[-1]
        else:
            statement = people.statement(doc, named, decision)
            signature = sshsig(people.key(key_of), statement.message())
        result = record_decision(ledger, statement, signature)
        captured.append((statement, signature))
        if result.state.outcome == "publish":
            break
    state = result.state if attempts and captured else None
    if state is None or state.outcome != "publish":
        return
    roster = read_roster(ledger)
    persons = [counted.person for counted in state.approvals]
    assert len(set(persons)) == len(persons) >= required
    assert "alice" not in persons
    assert all(roster.person(p) and roster.person(p).roles & set(DECIDING_ROLES) for p in persons)
    granted = [e for e in ledger.entries_for_doc(doc) if e.kind == "approval.granted"]
    assert all(e.data["statement"]["signer"] == e.actor for e in granted)
