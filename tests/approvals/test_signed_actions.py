"""Key rotation and PII erasure are ordered by a person: the operator, holding no person's key, cannot.

Attacks of an operator with the data directory and the ledger key but no admin's or pii_reader's private key:
rotating the ledger key, erasing a data subject, forging either entry (unsigned, signed by the wrong role,
by a removed person, or with a signature made for other values). Each is caught by both verifiers: the
approvals core's (``docval ledger verify``) and the bundled ``verify.py``'s, which an auditor runs.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
from approvalcheck import People, sshsig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals.actions import erase_consent, rotation_consent
from approvals.audit import check_installation, check_people
from approvals.errors import ApprovalsError
from approvals.roles import Role
from approvals.statement import EraseStatement, RotationStatement
from docval.settings import Settings
from docval.shards import shard_settings
from ledger import EntryDraft, Ledger, init_keys
from ledger.bundle_verify import VerifyError, check_people_entries

SUBJECT = "5" * 64  # a subject's keyed hash, as `docval pii erase --ref` takes it


@pytest.fixture
def crew(people: People) -> People:
    """The approvals fixture's people plus paula, who holds the data-protection role pii_reader."""
    people.enrol("add", "paula", [Role.PII_READER], signers=["erin"])
    return people


def problems(ledger: Ledger) -> tuple[list[str], str | None]:
    """What the approvals core finds, and what the bundle's verify.py says (None: it holds)."""
    entries = list(ledger.entries())
    try:
        check_people_entries((entry.canonical for entry in entries), None)
        bundle = None
    except VerifyError as exc:
        bundle = str(exc)
    return check_people(entries), bundle


def erased(ledger: Ledger, actor: str, signed: dict) -> None:
    """A ``pii.erased`` entry as ``docval pii erase`` writes it (or as an operator forges it)."""
    data = {"subject": SUBJECT, "entries": 1, "key_destroyed": True, "erased_at": "2026-12-05T00:00:00Z", **signed}
    ledger.append_many([EntryDraft("pii.erased", None, actor, data)])


def test_an_admin_rotates_and_a_pii_reader_erases_and_both_verify(crew: People, settings: Settings) -> None:
    admin, consent = rotation_consent(settings, crew.key("erin"))
    crew.ledger.rotate_key(admin, consent)
    reader, signed = erase_consent(settings, crew.key("paula"), SUBJECT)
    erased(crew.ledger, reader, signed)
    (rotation,) = [e for e in crew.ledger.entries() if e.kind == "key.rotated"]
    assert rotation.actor == "erin" and rotation.data["statement"]["new_key"] == crew.ledger.verifier_key()
    assert problems(crew.ledger) == ([], None)


def test_the_operator_rotating_the_key_without_an_admin_is_named(crew: People) -> None:
    crew.ledger.rotate_key("operator")  # what `docval keys rotate` did before: nobody's signature
    core, bundle = problems(crew.ledger)
    assert len(core) == 1 and "key.rotated carries no person's signature" in core[0]
    assert bundle is not None and "key.rotated carries no person's signature" in bundle


def test_the_operator_erasing_without_a_pii_reader_is_named(crew: People) -> None:
    erased(crew.ledger, "operator", {})  # what `docval pii erase` wrote before
    core, bundle = problems(crew.ledger)
    assert len(core) == 1 and "pii.erased carries no person's signature" in core[0]
    assert bundle is not None and "pii.erased carries no person's signature" in bundle


def test_a_reviewer_cannot_order_a_rotation_nor_an_admin_an_erasure(crew: People, settings: Settings) -> None:
    with pytest.raises(ApprovalsError, match="role admin"):
        rotation_consent(settings, crew.key("bob"))
    with pytest.raises(ApprovalsError, match=r"role pii_reader.*paula"):
        erase_consent(settings, crew.key("erin"), SUBJECT)
    statement = RotationStatement(old_key="a", new_key="b", signer="bob", signed_at="2026-12-05T00:00:00Z")

    def bobs(old: str, new: str) -> dict:  # bob's real signature, forged into a rotation by the operator
        signed = statement.model_copy(update={"old_key": old, "new_key": new})
        return {"statement": signed.model_dump(), "signature": sshsig(crew.key("bob"), signed.message())}

    crew.ledger.rotate_key("bob", bobs)
    core, bundle = problems(crew.ledger)
    assert len(core) == 1 and "bob was not an enrolled admin" in core[0]
    assert bundle is not None and "bob was not an enrolled admin" in bundle


def test_a_removed_pii_reader_cannot_erase_and_their_old_signature_does_not_carry_over(
    crew: People, settings: Settings
) -> None:
    reader, signed = erase_consent(settings, crew.key("paula"), SUBJECT)  # signed while enrolled ...
    crew.enrol("remove", "paula", [], signers=["erin"])
    with pytest.raises(ApprovalsError, match="not enrolled"):
        erase_consent(settings, crew.key("paula"), SUBJECT)
    erased(crew.ledger, reader, signed)  # ... and ledgered by the operator after the removal
    core, bundle = problems(crew.ledger)
    assert len(core) == 1 and "paula was not an enrolled pii_reader" in core[0]
    assert bundle is not None and "paula was not an enrolled pii_reader" in bundle


def test_an_erasure_signature_replayed_for_another_subject_is_named(crew: People, settings: Settings) -> None:
    reader, signed = erase_consent(settings, crew.key("paula"), "6" * 64)
    erased(crew.ledger, reader, signed)  # data.subject is SUBJECT, the signed statement names another
    core, bundle = problems(crew.ledger)
    assert len(core) == 1 and "names other values" in core[0]
    assert bundle is not None and "names other values" in bundle


@pytest.fixture
def signed_erasure(crew: People) -> tuple[People, dict]:
    """paula's real signature over an erasure, made once; each example ledgers a changed copy of it."""
    statement = EraseStatement(subject=SUBJECT, signer="paula", signed_at="2026-12-05T00:00:00Z")
    return crew, {"statement": statement.model_dump(), "signature": sshsig(crew.key("paula"), statement.message())}


MUTATION = st.tuples(
    st.sampled_from(["subject", "signer", "signed_at", "context", "actor"]),
    st.text(alphabet="0123456789abcdefz-", min_size=1, max_size=64),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATION)
def test_any_change_to_a_signed_erasure_is_named_by_both_verifiers(signed_erasure, mutation) -> None:
    crew, signed = signed_erasure
    field, value = mutation
    changed, actor = copy.deepcopy(signed), "paula"
    if field == "actor":
        actor = value
    else:
        changed["statement"][field] = value
    if changed == signed and actor == "paula":
        return  # not a change
    size = crew.ledger.size()
    erased(crew.ledger, actor, changed)
    entries = list(crew.ledger.entries())
    assert any(problem.startswith(f"seq {size}:") for problem in check_people(entries))
    honest = [entry for entry in entries if entry.kind != "pii.erased"]  # earlier examples' entries left out
    with pytest.raises(VerifyError, match=f"seq {size}:"):
        check_people_entries((entry.canonical for entry in [*honest, entries[-1]]), None)


def test_a_shards_rotation_is_checked_against_the_roots_enrolment(crew: People, settings: Settings) -> None:
    shard = shard_settings(settings, "w1")
    shard.ensure_dirs()
    init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
    ledger = Ledger.open(shard)
    admin, consent = rotation_consent(shard, crew.key("erin"))  # a worker's settings: enrolment from the root
    ledger.rotate_key(admin, consent)
    ledger.rotate_key("operator")
    assert check_installation(settings) == ["shard w1 seq 1: key.rotated carries no person's signature"]
    versions, _ = check_people_entries((entry.canonical for entry in crew.ledger.entries()), None)
    with pytest.raises(VerifyError, match=r"seq 1: key\.rotated carries no person.s signature"):
        check_people_entries((entry.canonical for entry in ledger.entries()), versions)


def docval(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *map(str, args)], capture_output=True, text=True)


def test_keys_rotate_needs_an_admins_key_exit_codes_as_approve(crew: People, settings: Settings) -> None:
    before = crew.ledger.verifier_key()
    assert docval("keys", "rotate").returncode == 2  # no --key: nothing the operator can run alone
    refused = docval("keys", "rotate", "--key", crew.key("bob"))
    assert refused.returncode == 1 and "role admin" in refused.stderr and "erin" in refused.stderr
    assert Ledger.open(settings).verifier_key() == before
    rotated = docval("keys", "rotate", "--key", crew.key("erin"))
    assert rotated.returncode == 0 and "by erin" in rotated.stdout, rotated.stderr
    ledger = Ledger.open(settings)
    assert ledger.verifier_key() != before and [e.actor for e in ledger.entries() if e.kind == "key.rotated"] == [
        "erin"
    ]
    assert problems(ledger) == ([], None)


@pytest.mark.parametrize("kind", ["key.rotated", "pii.erased"])
def test_ledger_append_refuses_a_forged_rotation_or_erasure(settings: Settings, kind: str) -> None:
    line = f'{{"kind": "{kind}", "doc": null, "actor": "erin", "data": {{"subject": "{SUBJECT}"}}}}\n'
    done = subprocess.run([sys.executable, "-m", "docval", "ledger", "append"], input=line, text=True,
                          capture_output=True)  # fmt: skip
    assert done.returncode == 2 and "signed by a person" in done.stderr
