"""Ed25519 note keys on disk: the private signer (0600, never wider) and the public trust anchor.

Files in ``settings.keys_dir``: ``ledger.key`` holds the signer in Go's note
private-key format (``PRIVATE+KEY+<name>+<key id>+<base64(0x01||seed)>``) so
standard note tooling can read it; ``ledger.vkey`` holds the verifier key the
ledger was created with — the trust anchor every later key must be handed
over from (``docval keys rotate`` records the handover in the ledger itself).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bundle_verify import ALG_ED25519, VerifierKey, VerifyError, key_id
from ledger.errors import LedgerError

__all__ = [
    "SigningKey",
    "anchor_path",
    "init_keys",
    "load_anchor",
    "load_signing_key",
    "sign_note",
    "signing_key_path",
    "write_new_key",
]

_PRIVATE_PREFIX = "PRIVATE+KEY+"


def signing_key_path(keys_dir: Path) -> Path:
    return keys_dir / "ledger.key"


def anchor_path(keys_dir: Path) -> Path:
    return keys_dir / "ledger.vkey"


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        if not name or any(char in name for char in "+ \n\t"):
            raise LedgerError(f"key name {name!r} must be non-empty without '+' or whitespace")
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> VerifierKey:
        public = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return VerifierKey(self.name, key_id(self.name, public), public)

    def signature_line(self, text: str) -> str:
        signature = self.private.sign(text.encode())
        return f"\u2014 {self.name} {base64.b64encode(self.verifier.key_id + signature).decode()}\n"

    def encode(self) -> str:
        seed = self.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{encoded}\n"

    @classmethod
    def decode(cls, text: str) -> SigningKey:
        try:
            if not text.startswith(_PRIVATE_PREFIX):
                raise ValueError
            name, hex_id, encoded = text[len(_PRIVATE_PREFIX) :].strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            if len(raw) != 33 or raw[0] != ALG_ED25519:
                raise ValueError
        except (ValueError, binascii.Error):
            raise LedgerError("the ledger signing key file is malformed") from None
        key = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if key.verifier.key_id.hex() != hex_id:
            raise LedgerError("the ledger signing key file has a wrong key id")
        return key


def sign_note(text: str, *keys: SigningKey) -> str:
    """A C2SP signed note: the text, a blank line, one signature line per key."""
    return text + "\n" + "".join(key.signature_line(text) for key in keys)


def load_signing_key(path: Path) -> SigningKey:
    """Refuses a key file that group or others could read: a leaked ledger key forges history."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise LedgerError(f"no ledger signing key at {path}; run `docval keys init`") from None
    if stat.S_IMODE(mode) & 0o077:
        raise LedgerError(f"{path} has mode {stat.S_IMODE(mode):04o}; a signing key must be 0600 or stricter")
    return SigningKey.decode(path.read_text(encoding="ascii"))


def load_anchor(keys_dir: Path) -> VerifierKey:
    path = anchor_path(keys_dir)
    try:
        return VerifierKey.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"no ledger verifier key at {path}; run `docval keys init`") from None
    except VerifyError as exc:
        raise LedgerError(f"{path}: {exc}") from None


def write_new_key(path: Path, key: SigningKey) -> None:
    """Create ``path`` (0600) holding ``key``; never overwrites, so an existing key cannot be lost by accident."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LedgerError(f"{path} already exists; refusing to overwrite a ledger key") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.encode())
        handle.flush()
        os.fsync(handle.fileno())


def init_keys(keys_dir: Path, name: str) -> VerifierKey:
    """Create the signing key (0600) and its verifier key, the ledger's trust anchor; refuses to overwrite."""
    anchor = anchor_path(keys_dir)
    if anchor.exists():
        raise LedgerError(f"{anchor} already exists; this ledger has its keys (use `docval keys rotate`)")
    key = SigningKey.generate(name)
    write_new_key(signing_key_path(keys_dir), key)
    fd = os.open(anchor, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{key.verifier}\n")
    return key.verifier
