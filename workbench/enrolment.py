"""Invitations, and the passkeys people registered with them.

An admin's ``docval users invite`` creates a one-time link that expires; the
person opens it and registers a passkey. The credential is then only
*proposed*: it counts once an admin has compared its fingerprint with the
person (out of band) and countersigned its enrolment, which the approvals
core ledgers (``docval users confirm``); so the operator who saw the link
cannot slip in a passkey of their own unnoticed. Who is enrolled is read
from the ledger, never from here. Only a SHA-256 of each invitation token is
stored, so reading this file does not yield a link. Credentials keep their
sign counter here because every sign-in and decision moves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from approvals.passkey import cose_fingerprint
from docval.db import connect
from workbench.errors import WorkbenchError

__all__ = ["Credential", "EnrolmentStore", "Invitation"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invitations (
    token_sha256 VARCHAR PRIMARY KEY, person VARCHAR NOT NULL, roles VARCHAR NOT NULL,
    invited_by VARCHAR NOT NULL, expires_at TIMESTAMPTZ NOT NULL, used_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS credentials (
    credential_id VARCHAR PRIMARY KEY, person VARCHAR NOT NULL, roles VARCHAR NOT NULL,
    cose_public_key VARCHAR NOT NULL, rp_id VARCHAR NOT NULL, origin VARCHAR NOT NULL,
    sign_count BIGINT NOT NULL, registered_at TIMESTAMPTZ NOT NULL
);
"""


@dataclass(frozen=True)
class Invitation:
    person: str
    roles: tuple[str, ...]
    invited_by: str
    expires_at: datetime


@dataclass(frozen=True)
class Credential:
    credential_id: str
    person: str
    roles: tuple[str, ...]
    cose_public_key: str
    rp_id: str
    origin: str
    sign_count: int

    @property
    def fingerprint(self) -> str:
        return cose_fingerprint(self.cose_public_key)

    def key(self) -> dict[str, str]:
        """The enrolled key in the shape the approvals core ledgers and ``verify_webauthn`` checks."""
        return {
            "kind": "webauthn",
            "credential_id": self.credential_id,
            "cose_public_key": self.cose_public_key,
            "rp_id": self.rp_id,
            "origin": self.origin,
        }


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EnrolmentStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._db() as db:
            db.execute(_SCHEMA)
        os.chmod(path, 0o600)

    @contextmanager
    def _db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.path, write=True) as db:
            yield db

    def invite(self, person: str, roles: list[str], *, invited_by: str, valid: timedelta) -> str:
        """A fresh one-time token for ``person``; any earlier unused invitation of theirs stops working."""
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM invitations WHERE person = ? AND used_at IS NULL", [person])
            db.execute(
                "INSERT INTO invitations VALUES (?, ?, ?, ?, ?, NULL)",
                [_token_hash(token), person, json.dumps(roles), invited_by, datetime.now(UTC) + valid],
            )
        return token

    def invitation(self, token: str) -> Invitation:
        """The open invitation behind ``token``; WorkbenchError if it is unknown, used or expired."""
        with self._db() as db:
            row = db.execute(
                "SELECT person, roles, invited_by, expires_at, used_at FROM invitations WHERE token_sha256 = ?",
                [_token_hash(token)],
            ).fetchone()
        if row is None:
            raise WorkbenchError("this enrolment link is unknown; ask an admin for a new one (docval users invite)")
        if row[4] is not None:
            raise WorkbenchError("this enrolment link was used already; ask an admin for a new one")
        if row[3] < datetime.now(UTC):
            raise WorkbenchError("this enrolment link has expired; ask an admin for a new one")
        return Invitation(row[0], tuple(json.loads(row[1])), row[2], row[3])

    def propose(self, token: str, credential: Credential) -> None:
        """Use the invitation up and keep the new credential until an admin countersigns it."""
        invitation = self.invitation(token)
        with self._db() as db:
            db.execute(
                "UPDATE invitations SET used_at = ? WHERE token_sha256 = ?", [datetime.now(UTC), _token_hash(token)]
            )
            db.execute(
                "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    credential.credential_id,
                    invitation.person,
                    json.dumps(list(invitation.roles)),
                    credential.cose_public_key,
                    credential.rp_id,
                    credential.origin,
                    credential.sign_count,
                    datetime.now(UTC),
                ],
            )

    def proposal(self, person: str, fingerprint: str) -> Credential:
        """The credential ``person`` registered whose fingerprint the admin compared with them."""
        for credential in self._credentials("person = ?", [person]):
            if credential.fingerprint == fingerprint.strip().lower():
                return credential
        raise WorkbenchError(
            f"{person} registered no passkey with fingerprint {fingerprint}; compare the fingerprint "
            "their enrolment page shows, or invite them again (docval users invite)"
        )

    def credential(self, credential_id: str) -> Credential | None:
        found = self._credentials("credential_id = ?", [credential_id])
        return found[0] if found else None

    def advance(self, credential_id: str, sign_count: int) -> None:
        with self._db() as db:
            db.execute("UPDATE credentials SET sign_count = ? WHERE credential_id = ?", [sign_count, credential_id])

    def _credentials(self, where: str, params: list[object]) -> list[Credential]:
        with self._db() as db:
            rows = db.execute(
                "SELECT credential_id, person, roles, cose_public_key, rp_id, origin, sign_count "
                f"FROM credentials WHERE {where} ORDER BY registered_at",
                params,
            ).fetchall()
        return [Credential(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6]) for r in rows]
