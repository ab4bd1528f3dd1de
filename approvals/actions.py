"""Operations a person orders with their own key: key rotation (admin), erasure and reveal (pii_reader).

The operator runs the appliance but decides none of these: each is signed by an enrolled person holding the
role, found from the key given (never a name typed in), and its ledger entry carries the statement and the
signature, so ``docval ledger verify`` and the bundled ``verify.py`` re-check them against the enrolment of
that point. ``SIGNED_ACTIONS`` is that rule for the checking side (``approvals.audit``); the bundled
``verify.py`` states the same table in its own standard-library terms. A reveal is signed in ``pii.signed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from approvals.errors import ApprovalsError
from approvals.people import Person, Roster
from approvals.record import read_roster
from approvals.roles import Role
from approvals.signatures import verify_signature
from approvals.signers import person_for_key, ssh_signature
from approvals.statement import EraseStatement, RevealStatement, RotationStatement
from docval.events import EntryKind
from docval.settings import Settings
from docval.shards import root_settings
from ledger import Ledger

__all__ = ["SIGNED_ACTIONS", "SignedAction", "erase_consent", "rotation_consent", "signed_by"]

Statement = RevealStatement | RotationStatement | EraseStatement


@dataclass(frozen=True)
class SignedAction:
    """Who may order an entry kind, what they sign, and which of the entry's values the statement must name."""

    role: Role
    statement: type[Statement]
    bound: Callable[[Any, str | None, dict[str, Any]], bool]  # (statement, entry doc, entry data) -> names them


SIGNED_ACTIONS: dict[str, SignedAction] = {
    EntryKind.PII_REVEALED.value: SignedAction(
        Role.PII_READER, RevealStatement, lambda s, doc, data: (s.doc, s.token) == (doc, data.get("token"))
    ),
    EntryKind.PII_ERASED.value: SignedAction(
        Role.PII_READER, EraseStatement, lambda s, _doc, data: s.subject == data.get("subject")
    ),
    EntryKind.KEY_ROTATED.value: SignedAction(
        Role.ADMIN,
        RotationStatement,
        lambda s, _doc, data: (s.old_key, s.new_key) == (data.get("old_key"), data.get("new_key")),
    ),
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def signed_by(roster: Roster, key: Path, role: Role, what: str) -> Person:
    """The enrolled person holding ``key`` if they hold ``role``; else ``ApprovalsError`` saying who may."""
    person = roster.people[person_for_key(roster, key)]
    if role not in person.roles:
        holders = ", ".join(sorted(p.name for p in roster.people.values() if role in p.roles)) or "nobody yet"
        raise ApprovalsError(
            f"{person.name} does not hold the role {role}, which is needed to {what}; it is held by: {holders} "
            "(`docval users list`)"
        )
    return person


def _signed(person: Person, key: Path, statement: Statement) -> dict[str, Any]:
    """``{statement, signature}`` for the payload, the signature checked against the enrolled key."""
    signature = ssh_signature(key, statement.message())
    verify_signature(person.key, statement.message(), signature)
    return {"statement": statement.model_dump(mode="json"), "signature": signature}


def _roster(settings: Settings) -> Roster:
    return read_roster(Ledger.open(root_settings(settings)))  # enrolment lives in the root ledger


def rotation_consent(settings: Settings, key: Path) -> tuple[str, Callable[[str, str], dict[str, Any]]]:
    """The admin holding ``key`` and their consent for ``Ledger.rotate_key`` (signs both verifier keys)."""
    admin = signed_by(_roster(settings), key, Role.ADMIN, "rotate the ledger key")

    def consent(old: str, new: str) -> dict[str, Any]:
        return _signed(admin, key, RotationStatement(old_key=old, new_key=new, signer=admin.name, signed_at=_now()))

    return admin.name, consent


def erase_consent(settings: Settings, key: Path, subject_ref: str) -> tuple[str, dict[str, Any]]:
    """The pii_reader holding ``key`` and their signed order to erase the subject of keyed hash ``subject_ref``."""
    reader = signed_by(_roster(settings), key, Role.PII_READER, "erase a data subject")
    return reader.name, _signed(reader, key, EraseStatement(subject=subject_ref, signer=reader.name, signed_at=_now()))
