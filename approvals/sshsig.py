"""OpenSSH signatures (SSHSIG) checked with nothing but ``cryptography``, and made by the real ``ssh-keygen``.

docval verifies decisions inside the appliance and inside the standalone
``verify.py`` of an evidence bundle, where only Python and ``cryptography``
exist. The SSHSIG wire format (OpenSSH ``PROTOCOL.sshsig``) is small, so
``ledger/bundle_verify.py`` parses it and this module reuses that; an auditor can cross-check any decision with
``ssh-keygen -Y verify`` because the bytes are exactly what ``ssh-keygen``
writes. Only Ed25519 keys are accepted: one algorithm, no downgrade choices.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from approvals.errors import ApprovalsError
from ledger.bundle_verify import SSHSIG_NAMESPACE, VerifyError, ssh_key_blob
from ledger.bundle_verify import verify_sshsig as bundle_verify_sshsig

__all__ = [
    "NAMESPACE",
    "fingerprint",
    "parse_public_key",
    "public_key_line",
    "sign_in_process",
    "sign_with_ssh_keygen",
    "verify_sshsig",
]

NAMESPACE = SSHSIG_NAMESPACE
KEY_TYPE = "ssh-ed25519"


def _key_blob(line: str) -> bytes:
    try:
        return ssh_key_blob(line.strip())
    except (VerifyError, binascii.Error):
        raise ApprovalsError(
            f"not an OpenSSH {KEY_TYPE} public key line (make one with: ssh-keygen -t ed25519)"
        ) from None


def parse_public_key(line: str) -> Ed25519PublicKey:
    """An OpenSSH one-line public key (``ssh-ed25519 AAAA… comment``) as a key object."""
    blob = _key_blob(line)
    raw = blob[-32:]
    if len(blob) != 4 + len(KEY_TYPE) + 4 + 32:
        raise ApprovalsError(f"not an OpenSSH {KEY_TYPE} public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(line: str) -> str:
    """``SHA256:…`` exactly as ``ssh-keygen -lf`` prints it, for people to compare by eye."""
    digest = base64.b64encode(hashlib.sha256(_key_blob(line)).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def verify_sshsig(public_key_line: str, message: bytes, armored: str, namespace: str = NAMESPACE) -> None:
    """Raise ``ApprovalsError`` unless ``armored`` is an SSHSIG over ``message`` by exactly this key.

    The one implementation lives in the bundle's standalone ``verify.py`` (``ledger.bundle_verify``), so the
    appliance and an auditor's offline check cannot disagree.
    """
    try:
        bundle_verify_sshsig(public_key_line, message, armored, namespace)
    except (VerifyError, binascii.Error, ValueError) as exc:
        raise ApprovalsError(str(exc) or "the SSH signature cannot be parsed") from None


def sign_with_ssh_keygen(key: Path, message: bytes, namespace: str = NAMESPACE) -> str:
    """Sign with the person's own key via ``ssh-keygen -Y sign`` (a ``.pub`` file: the key held by ssh-agent)."""
    try:
        done = subprocess.run(
            ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", namespace],
            input=message,
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApprovalsError(f"could not run ssh-keygen to sign: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()[:300]
        raise ApprovalsError(f"ssh-keygen could not sign with {key}: {detail}")
    return done.stdout.decode()


def _wire(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def public_key_line(public: Ed25519PublicKey) -> str:
    """The OpenSSH one-line form (``ssh-ed25519 AAAA…``) of a key."""
    blob = _wire(KEY_TYPE.encode()) + _wire(public.public_bytes_raw())
    return f"{KEY_TYPE} {base64.b64encode(blob).decode()}"


def sign_in_process(private: Ed25519PrivateKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """An armored SSHSIG exactly as ``ssh-keygen -Y sign`` writes it, made with a key held in memory.

    For generated data only (synthetic ledgers for reports and benchmarks sign thousands of decisions):
    people sign with their own key through ``sign_with_ssh_keygen``, never with a key docval holds.
    """
    digest = hashlib.sha512(message).digest()
    signed = b"SSHSIG" + b"".join(map(_wire, (namespace.encode(), b"", b"sha512", digest)))
    key_blob = base64.b64decode(public_key_line(private.public_key()).split()[1])
    signature = _wire(KEY_TYPE.encode()) + _wire(private.sign(signed))
    blob = (
        b"SSHSIG"
        + (1).to_bytes(4, "big")
        + b"".join(map(_wire, (key_blob, namespace.encode(), b"", b"sha512", signature)))
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----"]) + "\n"
