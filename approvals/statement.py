"""The exact bytes a person signs: decision statements and enrolment statements.

A statement is a small pydantic model whose RFC 8785 canonical JSON is the
signed message, so the CLI (``ssh-keygen -Y sign``), the workbench (a
WebAuthn challenge of SHA-256 of these bytes) and an auditor
(``ssh-keygen -Y verify`` on the exported ``.statement`` file) all handle the
same bytes. Each statement names what makes it unrepeatable elsewhere: a
decision names the document, the approval round (a random value the
``approval.requested`` entry carries, so it also serves as the server's nonce
for that round) and the digest of the field values decided on; an enrolment
names the roster version it changes, so an old admin signature cannot be
replayed after the roster moved on.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from approvals.roles import Role

__all__ = [
    "DecisionStatement",
    "EnrolmentStatement",
    "EraseStatement",
    "PolicyStatement",
    "RevealStatement",
    "RotationStatement",
    "fields_digest",
]

PERSON_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class _Statement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def message(self) -> bytes:
        """The signed bytes: canonical JSON of every field, nothing else."""
        return rfc8785.dumps(self.model_dump(mode="json"))


class DecisionStatement(_Statement):
    """A reviewer's approve/reject of one document in one approval round."""

    context: Literal["docval decision v1"] = "docval decision v1"
    doc: str = Field(pattern=r"^[0-9a-f]{64}$")
    round: str = Field(pattern=r"^[0-9a-f]{32}$", description="From the round's approval.requested entry.")
    fields_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="fields_digest() of the values decided on.")
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=1, max_length=2000, description="Already PII-masked: it is ledgered as is.")
    signer: str = Field(pattern=PERSON_NAME)
    signed_at: str = Field(description="RFC 3339 UTC.")


class EnrolmentStatement(_Statement):
    """An admin's change to who may do what: add a person, change roles or key, remove them."""

    context: Literal["docval enrolment v1"] = "docval enrolment v1"
    action: Literal["add", "set-roles", "set-key", "remove"]
    person: str = Field(pattern=PERSON_NAME)
    roles: list[Role] = []
    key: dict[str, str] | None = Field(None, description="The person's public key (see approvals.signatures).")
    roster_version: int = Field(ge=0, description="How many enrolment entries precede this one.")
    demo: bool = Field(False, description="A demo identity whose private key docval generated.")
    signed_at: str


class PolicyStatement(_Statement):
    """Admins' consent to a decision policy: nothing decides under a policy no admin signed."""

    context: Literal["docval policy v1"] = "docval policy v1"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of policy.yaml (the version decisions name).")
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="policy_content_digest() of it as ledgered.")
    roster_version: int = Field(ge=0, description="How many enrolment entries precede it (who the admins are).")
    signed_at: str


class RevealStatement(_Statement):
    """A pii_reader's request to see the original behind one pseudonym of one document."""

    context: Literal["docval pii reveal v1"] = "docval pii reveal v1"
    doc: str
    token: str
    signer: str = Field(pattern=PERSON_NAME)
    signed_at: str


class EraseStatement(_Statement):
    """A pii_reader's order to crypto-shred one data subject, named by its keyed hash (never the subject id)."""

    context: Literal["docval pii erase v1"] = "docval pii erase v1"
    subject: str = Field(description="The subject's keyed hash, as pii.erased ledgers it.")
    signer: str = Field(pattern=PERSON_NAME)
    signed_at: str


class RotationStatement(_Statement):
    """An admin's consent to hand the ledger's checkpoint signing from one key to a freshly made one.

    Naming both note verifier keys makes it unrepeatable: the new key is generated for this rotation only.
    """

    context: Literal["docval key rotation v1"] = "docval key rotation v1"
    old_key: str = Field(description="Note verifier key in force before the rotation.")
    new_key: str = Field(description="Note verifier key that signs from the rotation on.")
    signer: str = Field(pattern=PERSON_NAME)
    signed_at: str


def fields_digest(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the outbox ``fields`` a decision is about."""
    return hashlib.sha256(rfc8785.dumps(fields)).hexdigest()
