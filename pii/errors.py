"""The one error type of pii/: every expected failure (bad config, access denied, erased subject) is a PiiError."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["PiiAccessDenied", "PiiError", "SubjectErased"]


class PiiError(DocvalError):
    """A PII operation failed for a reason the operator can act on; the message never holds a personal value."""


class PiiAccessDenied(PiiError):
    """The user lacks the ``pii_reader`` role needed to re-identify a pseudonym."""


class SubjectErased(PiiError):
    """The data subject's key was destroyed: their originals no longer exist anywhere."""
