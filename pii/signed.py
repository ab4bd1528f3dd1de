"""A reveal signed by the reader: the ledger's ``pii.revealed`` names a person only if that person signed it.

Who may reveal comes from the enrolment in the root ledger (the approvals core's roster), not from a name
typed on the command line; the reader signs a ``RevealStatement`` with their own key, and the signature is
checked against their enrolled key before the vault is opened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from approvals.people import Person
from approvals.record import read_roster
from approvals.signatures import verify_signature
from approvals.signers import person_for_key, ssh_signature
from approvals.statement import RevealStatement
from docval.settings import Settings
from docval.shards import root_settings
from ledger import Ledger

__all__ = ["signed_reveal"]


def signed_reveal(settings: Settings, key: Path, doc: str, token: str) -> tuple[Person, dict[str, Any], dict[str, Any]]:
    """The enrolled reader holding ``key``, the statement they signed and their verified signature."""
    roster = read_roster(Ledger.open(root_settings(settings)))
    reader = roster.people[person_for_key(roster, key)]
    statement = RevealStatement(doc=doc, token=token, signer=reader.name, signed_at=datetime.now(UTC).isoformat())
    signature = ssh_signature(key, statement.message())
    verify_signature(reader.key, statement.message(), signature)
    return reader, statement.model_dump(mode="json"), signature
