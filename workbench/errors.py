"""The workbench's one error type."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["WorkbenchError"]


class WorkbenchError(DocvalError):
    """A request or command the workbench refuses; the message says why and what would be allowed."""
