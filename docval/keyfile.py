"""Secret key files: read only when nobody but their owner can read them.

A key that group or others can read may already be copied: the HMAC key
unmasks the ledger's keyed hashes, the PII master key opens the vault, a
user's key signs approvals. So every secret docval reads goes through
``read_secret``, which refuses a file with any group/other permission bit and
says which file and how to fix it, rather than quietly using a leaked key.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from docval.errors import ConfigError

__all__ = ["read_or_create_secret", "read_secret"]


def read_secret(path: Path) -> bytes:
    """The bytes of a secret key file; FileNotFoundError if it is missing, ConfigError if it is not 0600."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(path, None, f"mode {mode:04o} lets others read this secret key; it must be 0600 (chmod 600)")
    return path.read_bytes()


def read_or_create_secret(path: Path, generate: Callable[[], bytes]) -> bytes:
    """The secret in ``path``, first written (0600, folder 0700) from ``generate()`` if the file does not exist.

    Created with O_EXCL, so when two processes start at once one writes and both read the same secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(generate())
    return read_secret(path)
