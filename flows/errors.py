"""The one error type of flows/: orchestration problems the operator can act on."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["FlowError"]


class FlowError(DocvalError):
    """The appliance cannot do what was asked (server down, unknown document, no paused run, ...)."""
