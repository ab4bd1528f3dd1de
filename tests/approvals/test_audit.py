"""The operator's attacks with full access to the data directory but nobody's private key, caught afterwards.

The operator can append to the ledger file directly (the Ledger API stands in for that); ``check_people``
(what ``docval ledger verify`` runs) must name every entry that no enrolled person signed. The exported
decisions verify with nothing but ``ssh-keygen``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from approvalcheck import People, make_key, ssh_key_dict, sshsig, wait_for_approval

from approvals.audit import check_people
from approvals.entries import DecisionPayload, EnrolmentPayload, SignerSignature
from approvals.errors import ApprovalsError
from approvals.export import write_signed_decisions
from approvals.record import read_roster, record_decision
from approvals.roles import Role
from approvals.statement import EnrolmentStatement
from ledger import EntryDraft


def _approve(people: People, doc: str, person: str):
    statement = people.statement(doc, person)
    return record_decision(people.ledger, statement, sshsig(people.key(person), statement.message()))


def test_honest_history_checks_and_exports_for_ssh_keygen(people: People, tmp_path) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    seq = _approve(people, doc, "bob").seq
    _approve(people, doc, "carol")
    people.enrol("set-roles", "bob", [Role.SUBMITTER], signers=["erin"])  # later demotion: earlier decision stands
    entries = list(people.ledger.entries())
    assert check_people(entries) == []
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    assert write_signed_decisions(bundle, {None: [entry.canonical for entry in entries]}) == 2
    command = f"ssh-keygen -Y verify -f allowed_signers -I bob -n docval-decision -s decisions/{seq}.sig"
    done = subprocess.run(f"{command} < decisions/{seq}.statement", shell=True, cwd=bundle, capture_output=True)
    assert done.returncode == 0, done.stderr
    wrong = subprocess.run(command.replace("-I bob", "-I carol") + f" < decisions/{seq}.statement", shell=True,
                           cwd=bundle, capture_output=True)  # fmt: skip
    assert wrong.returncode != 0


def test_a_decision_forged_with_the_operators_key_is_named(people: People, tmp_path) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    statement = people.statement(doc, "bob")
    operator = make_key(tmp_path, "operator")
    forged = DecisionPayload(statement=statement, signature=sshsig(operator, statement.message()), role=Role.REVIEWER,
                             roster_version=read_roster(people.ledger).version, policy="")  # fmt: skip
    people.ledger.append_many([EntryDraft("approval.granted", doc, "bob", forged.model_dump(mode="json"))])
    problems = check_people(list(people.ledger.entries()))
    assert len(problems) == 1 and "signature not valid for bob" in problems[0]


def test_a_replayed_decision_after_removal_is_named(people: People) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    honest = _approve(people, doc, "bob")
    people.enrol("remove", "bob", [], signers=["erin"])
    entry = next(e for e in people.ledger.entries() if e.seq == honest.seq)
    people.ledger.append_many([EntryDraft(entry.kind, doc, entry.actor, entry.data)])  # bob's real signature
    problems = check_people(list(people.ledger.entries()))
    assert len(problems) == 1 and "not the one in force" in problems[0]


def test_an_operator_enrolling_themself_as_admin_is_named(people: People, tmp_path) -> None:
    operator = make_key(tmp_path, "operator")
    statement = EnrolmentStatement(action="add", person="operator", roles=[Role.ADMIN, Role.REVIEWER],
                                   key=ssh_key_dict(operator), roster_version=read_roster(people.ledger).version,
                                   signed_at="2026-01-01T00:00:00+00:00")  # fmt: skip
    payload = EnrolmentPayload(
        statement=statement,
        signatures=[SignerSignature(signer="erin", signature=sshsig(operator, statement.message()))],
    )
    people.ledger.append_many([EntryDraft("person.changed", None, "erin", payload.model_dump(mode="json"))])
    problems = check_people(list(people.ledger.entries()))
    assert len(problems) == 1 and "enrolment not valid" in problems[0]
    with pytest.raises(ApprovalsError, match="different key"):  # and nothing is decided on such a roster
        read_roster(people.ledger)


def test_an_unsigned_pii_reveal_is_named(people: People) -> None:
    data = {"user": "dave", "role": "pii_reader", "token": "<PERSON_1>", "revealed_at": "2026-01-01T00:00:00Z"}
    people.ledger.append_many([EntryDraft("pii.revealed", "a" * 64, "dave", data)])
    assert "carries no person's signature" in check_people(list(people.ledger.entries()))[0]


def test_raw_ledger_append_refuses_person_entries(settings) -> None:
    line = '{"kind": "approval.granted", "doc": null, "actor": "bob", "data": {}}\n'
    done = subprocess.run([sys.executable, "-m", "docval", "ledger", "append"], input=line, text=True,
                          capture_output=True)  # fmt: skip
    assert done.returncode == 2 and "signed by a person" in done.stderr


def _export(directory) -> None:
    done = subprocess.run([sys.executable, "-m", "docval", "ledger", "export", str(directory)], capture_output=True)
    assert done.returncode == 0, done.stderr


def _verify_py(directory) -> str:
    done = subprocess.run(
        [sys.executable, str(directory / "verify.py"), str(directory)], capture_output=True, text=True
    )
    return next(line for line in done.stdout.splitlines() if line.endswith(("VERIFIED",)) or "people" in line)


def test_the_bundles_verify_py_checks_people_offline(people: People, tmp_path) -> None:
    doc = wait_for_approval(people.ledger, maker="alice")
    seq = _approve(people, doc, "bob").seq
    people.ledger.checkpoint()
    _export(tmp_path / "honest")
    assert _verify_py(tmp_path / "honest").startswith("PASS people: 5 enrolment change(s) and 1 decision(s)")
    command = f"ssh-keygen -Y verify -f allowed_signers -I bob -n docval-decision -s decisions/{seq}.sig"
    done = subprocess.run(f"{command} < decisions/{seq}.statement", shell=True, cwd=tmp_path / "honest")
    assert done.returncode == 0
    statement = people.statement(doc, "carol")
    forged = DecisionPayload(statement=statement, signature=sshsig(people.key("bob"), statement.message()),
                             role=Role.REVIEWER, roster_version=5, policy="")  # fmt: skip
    people.ledger.append_many([EntryDraft("approval.granted", doc, "carol", forged.model_dump(mode="json"))])
    people.ledger.checkpoint()
    _export(tmp_path / "forged")
    assert _verify_py(tmp_path / "forged").startswith("FAIL people: seq ")
