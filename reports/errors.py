"""The one error type of reports/: a report or bundle that cannot be produced, said in one line."""

from __future__ import annotations

from docval.errors import DocvalError

__all__ = ["ReportError"]


class ReportError(DocvalError):
    """The ledger, period or output folder does not allow a truthful report; names the seq or path at fault."""
