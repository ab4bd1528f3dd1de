"""Enrolment from the command line: the trust anchor, admin-signed changes, and the demo identities.

Admins sign with their own OpenSSH keys (``--admin-key``, a private key file or a ``.pub`` held by
ssh-agent); which admin signed is found by matching the key against the roster, never by a name typed in.
Enrolment lives in the root ledger of an installation. The demo identities of a bare ``docval init`` get
keys in a folder outside the data directory and are marked ``demo`` in the ledger.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from approvals.entries import EnrolmentPayload, SignerSignature
from approvals.errors import ApprovalsError
from approvals.people import Roster
from approvals.record import read_roster, record_enrolment
from approvals.roles import Role
from approvals.signers import person_for_key, public_key_of, ssh_signature
from approvals.statement import EnrolmentStatement
from docval.settings import Settings
from docval.shards import root_settings
from flows.approvals.applied import sign_policy
from ledger import Ledger

__all__ = [
    "DEMO_PEOPLE",
    "demo_keys_dir",
    "enrol",
    "ensure_demo_people",
    "init_admin",
]

# Demo installation: alice submits (and so can never approve her documents), bob reviews, carol reviews and
# is the senior reviewer escalations go to, dave may reveal pseudonyms, erin administers (the trust anchor).
DEMO_PEOPLE: dict[str, list[Role]] = {
    "erin": [Role.ADMIN],
    "alice": [Role.SUBMITTER],
    "bob": [Role.REVIEWER],
    "carol": [Role.REVIEWER, Role.SENIOR_REVIEWER],
    "dave": [Role.PII_READER],
}


def root_ledger(settings: Settings) -> Ledger:
    return Ledger.open(root_settings(settings))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def enrol(
    settings: Settings,
    action: str,
    person: str,
    *,
    roles: list[Role],
    public_key: str | None,
    admin_keys: list[Path],
    demo: bool = False,
) -> int:
    """Sign one roster change with each admin key given and ledger it in the root ledger; its seq."""
    ledger = root_ledger(settings)
    roster = read_roster(ledger)
    statement = EnrolmentStatement(
        action=action,  # type: ignore[arg-type]
        person=person,
        roles=roles,
        key={"kind": "ssh-ed25519", "public_key": public_key} if public_key else None,
        roster_version=roster.version,
        demo=demo,
        signed_at=_now(),
    )
    signatures = [
        SignerSignature(signer=_signer(roster, person, key), signature=ssh_signature(key, statement.message()))
        for key in admin_keys
    ]
    return record_enrolment(ledger, EnrolmentPayload(statement=statement, signatures=signatures))


def _signer(roster: Roster, person: str, key: Path) -> str:
    """Who a key belongs to; the trust anchor (a demo one signs its own entry) is not enrolled yet."""
    return person if roster.version == 0 else person_for_key(roster, key)


def init_admin(settings: Settings, name: str, public_key_file: Path) -> int:
    """The first admin, the trust anchor an auditor pins: only on an empty ledger."""
    ledger = root_ledger(settings)
    if ledger.size() != 0:
        raise ApprovalsError(f"{settings.ledger_db} is not empty; the first admin can only be set on a new ledger")
    line = public_key_of(public_key_file)
    return enrol(settings, "add", name, roles=[Role.ADMIN], public_key=line, admin_keys=[])


def demo_keys_dir(settings: Settings) -> Path:
    """``~/.config/docval/demo-keys/<data dir digest>``: outside the data directory, one folder per installation."""
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:12]
    return Path("~/.config/docval/demo-keys").expanduser() / digest


def ensure_demo_people(settings: Settings) -> Path | None:
    """On an installation nobody enrolled yet, enrol the demo people; the folder of their keys (None: not new)."""
    if read_roster(root_ledger(settings)).version:
        return None
    folder = demo_keys_dir(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = {name: _demo_key(folder, name) for name in DEMO_PEOPLE}
    for name, roles in DEMO_PEOPLE.items():
        signer = [keys[name]] if name == "erin" else [keys["erin"]]  # the demo anchor signs its own entry
        enrol(settings, "add", name, roles=roles, public_key=public_key_of(keys[name]), admin_keys=signer, demo=True)
    sign_policy(settings, [keys["erin"]])  # the demo admin signs the policy the demo starts with
    return folder


def _demo_key(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.exists():
        comment = f"{name}@docval-demo"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path
