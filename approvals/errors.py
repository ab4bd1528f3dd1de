"""The approvals package's one error type."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["ApprovalsError"]


class ApprovalsError(DocvalError):
    """A signature, enrolment or decision that cannot be accepted; the message says why and what to do."""
