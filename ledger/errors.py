"""The ledger's one error type."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["LedgerError"]


class LedgerError(DocvalError):
    """A ledger operation was refused: bad entry, missing or unsafe key, inconsistent checkpoint."""
