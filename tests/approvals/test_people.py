"""Enrolment: the trust anchor, admin signatures, four-eyes once two admins exist, no replay."""

from __future__ import annotations

import pytest
from approvalcheck import People, now_text, ssh_key_dict, sshsig

from approvals.entries import EnrolmentPayload, SignerSignature
from approvals.errors import ApprovalsError
from approvals.people import fold_roster
from approvals.record import read_roster, record_enrolment
from approvals.roles import Role
from approvals.statement import EnrolmentStatement
from ledger import Ledger


def test_roster_is_the_fold_of_enrolment_entries(people: People) -> None:
    roster = read_roster(people.ledger)
    assert sorted(roster.people) == ["alice", "bob", "carol", "dave", "erin"]
    assert roster.person("dave").roles == {Role.SENIOR_REVIEWER}
    assert roster.version == 5
    assert fold_roster(people.ledger.entries()) == roster


def test_the_first_enrolment_must_be_an_admin_adding_themself(ledger: Ledger, tmp_path) -> None:
    crowd = People(ledger, tmp_path)
    with pytest.raises(ApprovalsError, match="first enrolment"):
        crowd.enrol("add", "bob", [Role.REVIEWER], signers=[])
    with pytest.raises(ApprovalsError, match="first enrolment"):
        crowd.enrol("add", "erin", [Role.ADMIN], signers=["mallory"])
    assert ledger.size() == 0


def test_a_non_admin_cannot_enrol(people: People) -> None:
    with pytest.raises(ApprovalsError, match="not an enrolled admin"):
        people.enrol("set-roles", "bob", [Role.SENIOR_REVIEWER], signers=["bob"])


def test_two_admins_must_sign_once_two_exist(people: People) -> None:
    people.enrol("add", "frank", [Role.ADMIN], signers=["erin"])
    with pytest.raises(ApprovalsError, match="2 admins must sign"):
        people.enrol("set-roles", "bob", [Role.SENIOR_REVIEWER], signers=["erin"])
    with pytest.raises(ApprovalsError, match="same admin signed twice"):
        people.enrol("set-roles", "bob", [Role.SENIOR_REVIEWER], signers=["erin", "erin"])
    people.enrol("set-roles", "bob", [Role.SENIOR_REVIEWER], signers=["erin", "frank"])
    assert read_roster(people.ledger).person("bob").roles == {Role.SENIOR_REVIEWER}


def test_an_old_admin_signature_cannot_be_replayed(people: People) -> None:
    """Removing bob, re-adding him, then replaying the signed removal must not remove him again."""
    people.enrol("remove", "bob", [], signers=["erin"])
    removal = next(e for e in reversed(list(people.ledger.entries())) if e.kind == "person.changed")
    people.enrol("add", "bob", [Role.REVIEWER], signers=["erin"])
    with pytest.raises(ApprovalsError, match="roster version"):
        record_enrolment(people.ledger, EnrolmentPayload.model_validate(removal.data))
    assert read_roster(people.ledger).person("bob") is not None


def test_the_last_admin_cannot_be_removed(people: People) -> None:
    with pytest.raises(ApprovalsError, match="last admin"):
        people.enrol("set-roles", "erin", [Role.REVIEWER], signers=["erin"])


def test_a_signature_over_other_bytes_is_refused(people: People) -> None:
    statement = EnrolmentStatement(
        action="add",
        person="mallory",
        roles=[Role.ADMIN],
        key=ssh_key_dict(people.key("mallory")),
        roster_version=read_roster(people.ledger).version,
        signed_at=now_text(),
    )
    other = statement.model_copy(update={"roles": [Role.SUBMITTER]})
    forged = SignerSignature(signer="erin", signature=sshsig(people.key("erin"), other.message()))
    with pytest.raises(ApprovalsError, match="does not match"):
        record_enrolment(people.ledger, EnrolmentPayload(statement=statement, signatures=[forged]))
