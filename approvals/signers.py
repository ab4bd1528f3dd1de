"""Who holds a key: from an OpenSSH key file to the enrolled person, and signing as them with ``ssh-keygen``.

Nothing a person types names them: the CLI signs with the key file given, and the signer is whoever that
public key is enrolled for. A key nobody enrolled is refused with its fingerprint, so an admin can check it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from approvals.errors import ApprovalsError
from approvals.people import Roster
from approvals.sshsig import fingerprint, sign_with_ssh_keygen

__all__ = ["person_for_key", "public_key_of", "ssh_signature"]


def public_key_of(key: Path) -> str:
    """The OpenSSH public key line of a key file: the ``.pub`` itself, the ``.pub`` beside it, or derived."""
    candidates = [key] if key.suffix == ".pub" else [key.with_name(key.name + ".pub")]
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    done = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ApprovalsError(f"cannot read a public key from {key}: {done.stderr.strip()[:200]}")
    return done.stdout.strip()


def person_for_key(roster: Roster, key: Path) -> str:
    """The enrolled person whose key this is; refuses a key nobody enrolled."""
    line = public_key_of(key)
    blob = line.split()[1] if len(line.split()) > 1 else line
    for person in roster.people.values():
        if person.key.get("kind") == "ssh-ed25519" and person.key["public_key"].split()[1] == blob:
            return person.name
    raise ApprovalsError(
        f"the key {key} ({fingerprint(line)}) is not enrolled for anyone; ask an admin to enrol it "
        "(`docval users list` shows who is enrolled)"
    )


def ssh_signature(key: Path, message: bytes) -> dict[str, str]:
    return {"kind": "sshsig", "signature": sign_with_ssh_keygen(key, message)}
