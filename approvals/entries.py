"""Ledger payloads of person-attributed entries (``docval.events.PERSON_ATTRIBUTED`` lists their kinds).

Every such entry carries the statement that was signed and the signature(s) exactly as received, so a
verifier needs nothing but the ledger to re-check who did what. ``docval ledger append`` refuses these kinds:
only the approvals core writes them, after checking the signatures.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from approvals.roles import Role
from approvals.statement import DecisionStatement, EnrolmentStatement
from docval.events import EntryKind

__all__ = [
    "DecisionPayload",
    "EnrolmentPayload",
    "RefusedPayload",
    "SignerSignature",
]

PERSON_CHANGED = EntryKind.PERSON_CHANGED.value
APPROVAL_GRANTED = EntryKind.APPROVAL_GRANTED.value
APPROVAL_REFUSED = EntryKind.APPROVAL_REFUSED.value


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignerSignature(_Payload):
    signer: str
    signature: dict[str, Any] = Field(description="{'kind': 'sshsig' | 'webauthn', ...} as received.")


class EnrolmentPayload(_Payload):
    """``person.changed``: an admin-signed change to the roster (two admins once two exist)."""

    statement: EnrolmentStatement
    signatures: list[SignerSignature] = Field(description="Admins' signatures; none for the trust anchor.")


class DecisionPayload(_Payload):
    """``approval.granted``: a verified, counted decision (approve or reject) of one round."""

    statement: DecisionStatement
    signature: dict[str, Any]
    role: Role = Field(description="The role the decision counted under.")
    roster_version: int = Field(ge=0, description="Enrolment entries the check saw (who was enrolled).")
    policy: str = Field(description="Version (SHA-256) of the policy the document was decided under.")


class RefusedPayload(_Payload):
    """``approval.refused``: an attempt that was not counted, with every reason it failed."""

    statement: dict[str, Any] | None = Field(None, description="The statement as offered, if it parsed.")
    signature: dict[str, Any] | None = None
    refused_because: list[str] = Field(min_length=1)
