"""Keyed hashes of identifiers, so the ledger can link records without holding them.

A plain SHA-256 of an IBAN or a name is reversible by brute force over the
small space of plausible values; an HMAC with a secret that never enters the
ledger is not. The secret lives in ``keys/hmac.key`` (0600).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from docval.keyfile import read_or_create_secret

__all__ = ["KeyedHasher"]


class KeyedHasher:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("HMAC secret must be at least 32 bytes")
        self._secret = secret

    @classmethod
    def from_file(cls, path: Path) -> KeyedHasher:
        """Load the secret, creating it (0600) on first use; refuses a file others can read."""
        return cls(read_or_create_secret(path, lambda: secrets.token_bytes(32)))

    def __call__(self, value: str, *, purpose: str = "id") -> str:
        """Hex HMAC-SHA256 of ``value``; ``purpose`` separates domains so equal strings of different kinds differ."""
        # surrogateescape: a value holding undecodable bytes (a non-UTF-8 file name) hashes its bytes, never raises
        message = f"{purpose}\x00{value}".encode("utf-8", "surrogateescape")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
