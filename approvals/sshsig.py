"""OpenSSH signatures (SSHSIG) checked with nothing but ``cryptography``, and made by the real ``ssh-keygen``.

docval verifies decisions inside the appliance and inside the standalone
``verify.py`` of an evidence bundle, where only Python and ``cryptography``
exist. The SSHSIG wire format (OpenSSH ``PROTOCOL.sshsig``) is small, so it is
parsed here; an auditor can cross-check any decision with
``ssh-keygen -Y verify`` because the bytes are exactly what ``ssh-keygen``
writes. Only Ed25519 keys are accepted: one algorithm, no downgrade choices.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import subprocess
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from approvals.errors import ApprovalsError

__all__ = ["NAMESPACE", "fingerprint", "parse_public_key", "sign_with_ssh_keygen", "verify_sshsig"]

NAMESPACE = "docval-decision"
KEY_TYPE = "ssh-ed25519"
_MAGIC = b"SSHSIG"
_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


class _Reader:
    """SSH wire format: uint32 big-endian lengths in front of byte strings."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ApprovalsError("truncated SSH signature or key")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ApprovalsError("trailing bytes after SSH signature or key")


def _string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _key_blob_to_ed25519(blob: bytes) -> Ed25519PublicKey:
    reader = _Reader(blob)
    kind = reader.string()
    raw = reader.string()
    reader.done()
    if kind != KEY_TYPE.encode() or len(raw) != 32:
        raise ApprovalsError(f"only {KEY_TYPE} keys are accepted, not {kind.decode(errors='replace')}")
    return Ed25519PublicKey.from_public_bytes(raw)


def _key_blob(line: str) -> bytes:
    parts = line.strip().split()
    if len(parts) < 2 or parts[0] != KEY_TYPE:
        raise ApprovalsError(f"not an OpenSSH {KEY_TYPE} public key line (make one with: ssh-keygen -t ed25519)")
    try:
        return base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise ApprovalsError("the public key's base64 is damaged") from None


def parse_public_key(line: str) -> Ed25519PublicKey:
    """An OpenSSH one-line public key (``ssh-ed25519 AAAA… comment``) as a key object."""
    return _key_blob_to_ed25519(_key_blob(line))


def fingerprint(line: str) -> str:
    """``SHA256:…`` exactly as ``ssh-keygen -lf`` prints it, for people to compare by eye."""
    digest = base64.b64encode(hashlib.sha256(_key_blob(line)).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _dearmor(armored: str) -> bytes:
    text = armored.strip()
    if not (text.startswith(_ARMOR_BEGIN) and text.endswith(_ARMOR_END)):
        raise ApprovalsError("not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)")
    body = "".join(text[len(_ARMOR_BEGIN) : -len(_ARMOR_END)].split())
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise ApprovalsError("the SSH signature's base64 is damaged") from None


def verify_sshsig(public_key_line: str, message: bytes, armored: str, namespace: str = NAMESPACE) -> None:
    """Raise ``ApprovalsError`` unless ``armored`` is an SSHSIG over ``message`` by exactly this key."""
    reader = _Reader(_dearmor(armored))
    if reader.take(6) != _MAGIC or reader.uint32() != 1:
        raise ApprovalsError("not an SSHSIG version 1 signature")
    signer_blob, sig_namespace, reserved, hash_name = (reader.string() for _ in range(4))
    sig_blob = reader.string()
    reader.done()
    if signer_blob != _key_blob(public_key_line):
        raise ApprovalsError("signed by a different key than the one enrolled for this person")
    if sig_namespace != namespace.encode():
        raise ApprovalsError(f"signature namespace is {sig_namespace.decode(errors='replace')!r}, not {namespace!r}")
    hasher = _HASHES.get(hash_name.decode(errors="replace"))
    if hasher is None:
        raise ApprovalsError("unsupported SSHSIG hash algorithm")
    sig_reader = _Reader(sig_blob)
    if sig_reader.string() != KEY_TYPE.encode():
        raise ApprovalsError(f"only {KEY_TYPE} signatures are accepted")
    raw_signature = sig_reader.string()
    sig_reader.done()
    signed = _MAGIC + _string(namespace.encode()) + _string(reserved) + _string(hash_name)
    signed += _string(hasher(message).digest())
    try:
        _key_blob_to_ed25519(signer_blob).verify(raw_signature, signed)
    except InvalidSignature:
        raise ApprovalsError("the SSH signature does not match the statement") from None


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
