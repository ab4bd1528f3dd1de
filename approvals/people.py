"""Who is enrolled with which roles and key: a pure fold of the ledger's ``person.changed`` entries.

The first entry is the trust anchor: the first admin (``docval init --admin`` on an empty ledger), which an
auditor pins; nobody could sign it yet. Every later change must be signed by admins enrolled at that point:
one while there is one admin, two distinct admins once two exist (four-eyes on the rules themselves). Each
statement names the roster version it changes, so an old signature cannot be replayed. The fold refuses any
entry that breaks these rules, which is how ``docval ledger verify`` and the bundled ``verify.py`` judge
enrolment history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from approvals.entries import PERSON_CHANGED, EnrolmentPayload, SignerSignature
from approvals.errors import ApprovalsError
from approvals.roles import Role
from approvals.signatures import check_key, verify_signature
from approvals.statement import EnrolmentStatement

__all__ = ["Fact", "Person", "Roster", "apply_enrolment", "check_admins_signed", "fold_roster"]


class Fact(Protocol):
    """What the folds need of a ledger entry (``ledger.Entry`` and ``flows.audit.HistoryEntry`` both fit)."""

    seq: int
    ts: str
    kind: str
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Person:
    name: str
    roles: frozenset[Role]
    key: dict[str, Any]
    demo: bool = False


@dataclass(frozen=True)
class Roster:
    """Enrolled people now, and every key anyone ever held (an exported ``allowed_signers`` lists them all)."""

    people: dict[str, Person] = field(default_factory=dict)
    version: int = 0
    keys_ever: tuple[tuple[str, dict[str, Any]], ...] = ()

    def person(self, name: str) -> Person | None:
        return self.people.get(name)

    def admins(self) -> list[str]:
        return sorted(name for name, person in self.people.items() if Role.ADMIN in person.roles)

    def admin_signatures_required(self) -> int:
        return min(2, len(self.admins()))


def apply_enrolment(roster: Roster, payload: EnrolmentPayload) -> Roster:
    """The roster after one enrolment change, or ``ApprovalsError`` saying why the change is not valid."""
    statement = payload.statement
    if statement.roster_version != roster.version:
        raise ApprovalsError(
            f"enrolment signed for roster version {statement.roster_version}, the roster is at {roster.version}"
        )
    _check_admin_signatures(roster, statement, payload)
    current = roster.person(statement.person)
    people = dict(roster.people)
    keys_ever = roster.keys_ever
    if statement.action == "add":
        if current is not None:
            raise ApprovalsError(f"{statement.person} is already enrolled; use set-roles or set-key")
        people[statement.person] = Person(statement.person, _roles(statement), _key(statement), statement.demo)
        keys_ever += ((statement.person, _key(statement)),)
    elif current is None:
        enrolled = ", ".join(sorted(roster.people)) or "nobody yet"
        raise ApprovalsError(f"{statement.person} is not enrolled; enrolled are: {enrolled} (`docval users list`)")
    elif statement.action == "set-roles":
        people[statement.person] = replace(current, roles=_roles(statement))
    elif statement.action == "set-key":
        people[statement.person] = replace(current, key=_key(statement))
        keys_ever += ((statement.person, _key(statement)),)
    else:
        del people[statement.person]
    if roster.admins() and not any(Role.ADMIN in person.roles for person in people.values()):
        raise ApprovalsError("the last admin cannot be removed or demoted")
    return Roster(people=people, version=roster.version + 1, keys_ever=keys_ever)


def _check_admin_signatures(roster: Roster, statement: EnrolmentStatement, payload: EnrolmentPayload) -> None:
    message = statement.message()
    signers = [signed.signer for signed in payload.signatures]
    if roster.version == 0:  # the trust anchor: an auditor pins it, nobody enrolled could sign it
        if statement.action != "add" or Role.ADMIN not in statement.roles or set(signers) - {statement.person}:
            raise ApprovalsError("the first enrolment must be an admin (docval init --admin NAME --public-key FILE)")
        if len(signers) > 1:
            raise ApprovalsError("the same admin signed twice")
        for signed in payload.signatures:  # a demo anchor signs its own entry; a real one need not
            verify_signature(_key(statement), message, signed.signature)
        return
    check_admins_signed(roster, message, payload.signatures, "enrolment changes")


def check_admins_signed(roster: Roster, message: bytes, signatures: Sequence[SignerSignature], what: str) -> None:
    """Enough distinct enrolled admins (two once two exist) signed ``message``; else ``ApprovalsError``."""
    signers = [signed.signer for signed in signatures]
    if len(set(signers)) != len(signers):
        raise ApprovalsError("the same admin signed twice")
    for signed in signatures:
        admin = roster.person(signed.signer)
        if admin is None or Role.ADMIN not in admin.roles:
            raise ApprovalsError(f"{signed.signer} is not an enrolled admin")
        verify_signature(admin.key, message, signed.signature)
    if len(signers) < max(1, roster.admin_signatures_required()):
        raise ApprovalsError(f"{roster.admin_signatures_required()} admins must sign {what}; {len(signers)} did")


def _roles(statement: EnrolmentStatement) -> frozenset[Role]:
    if not statement.roles:
        raise ApprovalsError("give at least one --role")
    return frozenset(statement.roles)


def _key(statement: EnrolmentStatement) -> dict[str, Any]:
    if statement.key is None:
        raise ApprovalsError(f"{statement.action} needs the person's public key")
    check_key(statement.key)
    return dict(statement.key)


def fold_roster(facts: Iterable[Fact]) -> Roster:
    """The roster after every ``person.changed`` among ``facts`` (in seq order); an invalid one names its seq."""
    roster = Roster()
    for fact in facts:
        if fact.kind != PERSON_CHANGED:
            continue
        try:
            roster = apply_enrolment(roster, EnrolmentPayload.model_validate(fact.data))
        except (ApprovalsError, ValueError) as exc:
            raise ApprovalsError(f"seq {fact.seq}: {exc}") from None
    return roster
