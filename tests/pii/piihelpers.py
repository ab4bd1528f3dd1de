"""Helpers the pii tests import by name (a conftest cannot be imported: several test folders have one)."""

from __future__ import annotations

import hashlib


def doc_id(name: str) -> str:
    """A valid document id (SHA-256 hex) derived from a test's own label."""
    return hashlib.sha256(name.encode()).hexdigest()
