"""``roles.yaml`` and Ed25519-signed approval decisions.

Prefect's open-source server has no users: whoever can reach its port can
resume a paused run and type any name into a form. So an approval proves its
author itself: the CLI signs a small statement (document, decision, reason
hash, user, time) with the user's private key, and the flow verifies it
against the public key listed for that user in ``roles.yaml``. The signed
statement travels as an opaque *decision token*, which is also what the
Prefect UI's resume form asks for. The reason is kept as a keyed hash only,
because free text typed by a reviewer can hold personal data and the token is
stored in Prefect's database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docval.configfile import load_yaml_model
from docval.keyfile import read_secret
from flows.errors import FlowError

__all__ = [
    "DEMO_USERS",
    "DecisionStatement",
    "Role",
    "RolesFile",
    "SignedDecision",
    "User",
    "ensure_demo_roles",
    "key_id",
    "load_roles",
    "parse_token",
    "sign_decision",
    "user_key_path",
]


class Role(StrEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    PII_READER = "pii_reader"
    ADMIN = "admin"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class User(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    roles: list[Role] = Field(min_length=1)
    public_key: str = Field(description="Base64 of the raw 32-byte Ed25519 public key.")

    @field_validator("public_key")
    @classmethod
    def _is_ed25519(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("not base64") from None
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")
        return value

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))


class RolesFile(_Strict):
    users: list[User]

    @model_validator(mode="after")
    def _unique_names(self) -> RolesFile:
        names = [user.name for user in self.users]
        if len(names) != len(set(names)):
            raise ValueError("user names must be unique")
        return self

    def user(self, name: str) -> User | None:
        return next((user for user in self.users if user.name == name), None)


class DecisionStatement(_Strict):
    """What a reviewer signs. Canonical JSON (RFC 8785) of this model is the signed message."""

    doc: str = Field(pattern=r"^[0-9a-f]{64}$")
    decision: Literal["approve", "reject"]
    reason_hash: str | None = None
    user: str
    signed_at: datetime

    def message(self) -> bytes:
        return rfc8785.dumps(self.model_dump(mode="json"))


class SignedDecision(_Strict):
    statement: DecisionStatement
    signature: str
    key_id: str

    def token(self) -> str:
        """The opaque decision token pasted into the Prefect UI form or sent by ``docval approve``."""
        return base64.urlsafe_b64encode(rfc8785.dumps(self.model_dump(mode="json"))).decode().rstrip("=")

    def verify(self, user: User) -> bool:
        try:
            user.verifier().verify(base64.b64decode(self.signature), self.statement.message())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return key_id(user.verifier()) == self.key_id


def parse_token(token: str) -> SignedDecision | None:
    """Decode a decision token; None for anything that is not a well-formed token."""
    try:
        raw = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
        return SignedDecision.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        return None


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def user_key_path(keys_dir: Path, user: str) -> Path:
    return keys_dir / "users" / f"{user}.ed25519"


def sign_decision(
    keys_dir: Path,
    *,
    doc: str,
    user: str,
    decision: Literal["approve", "reject"],
    reason_hash: str | None,
    now: datetime | None = None,
) -> SignedDecision:
    """Sign with the user's private key from ``keys/users/<user>.ed25519`` (only that user should read it)."""
    path = user_key_path(keys_dir, user)
    try:
        private = serialization.load_pem_private_key(read_secret(path), password=None)
    except FileNotFoundError:
        raise FlowError(f"no private key for user {user!r} at {path}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise FlowError(f"{path} is not an Ed25519 private key")
    statement = DecisionStatement(
        doc=doc, decision=decision, reason_hash=reason_hash, user=user, signed_at=now or datetime.now(UTC)
    )
    signature = base64.b64encode(private.sign(statement.message())).decode()
    return SignedDecision(statement=statement, signature=signature, key_id=key_id(private.public_key()))


def load_roles(path: Path) -> RolesFile:
    return load_yaml_model(path, RolesFile)


# Demo installation: who exists on first start. alice submits (and so can never approve her documents),
# bob reviews, carol is the senior reviewer escalations go to, dave may reveal pseudonyms, erin administers.
DEMO_USERS: dict[str, list[Role]] = {
    "alice": [Role.SUBMITTER],
    "bob": [Role.REVIEWER],
    "carol": [Role.REVIEWER, Role.SENIOR_REVIEWER],
    "dave": [Role.PII_READER],
    "erin": [Role.ADMIN],
}


def ensure_demo_roles(roles_path: Path, keys_dir: Path) -> bool:
    """On first start create a key pair per demo user and a ``roles.yaml`` naming them; False if it existed."""
    if roles_path.exists():
        return False
    lines = ["# docval approvers: name, roles, raw Ed25519 public key (base64). Private keys: keys/users/", "users:"]
    for name, roles in DEMO_USERS.items():
        public = _create_key(user_key_path(keys_dir, name))
        lines += [f"  - name: {name}", f"    roles: [{', '.join(roles)}]", f"    public_key: {public}"]
    roles_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = roles_path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(roles_path)
    return True


def _create_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
