"""The shapes operators write into text, recognised again so masking is idempotent and reversible."""

from __future__ import annotations

import re

__all__ = ["PROTECTED_RE", "TOKEN_RE", "token_entity"]

TOKEN_RE = re.compile(r"<([A-Z][A-Z0-9_]*?)_(\d+)>")
"""A pseudonym: ``<PERSON_1>``, ``<IBAN_CODE_12>``."""
PROTECTED_RE = re.compile(r"<[A-Z][A-Z0-9_]*(?:_\d+|#[0-9a-f]{12})?>")
"""Anything an operator wrote (pseudonym, keyed hash, redaction): never detected again."""


def token_entity(token: str) -> str:
    """``PERSON`` for ``<PERSON_3>``; ``PII`` for anything that is not a pseudonym."""
    match = TOKEN_RE.fullmatch(token)
    return match.group(1) if match else "PII"
