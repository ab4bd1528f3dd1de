"""The error types shared across packages.

Every error docval raises on purpose derives from ``DocvalError`` so the CLI
can turn it into a one-line message and a non-zero exit instead of a
traceback. Messages name files, fields, codes and sequence numbers, never
document content: they end up in logs and in Prefect's database.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ConfigError", "DocvalError", "StoreBusyError"]


class DocvalError(Exception):
    """Base class for expected, user-facing failures."""


class ConfigError(DocvalError):
    """A configuration file or setting is invalid; names the file and line at fault."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class StoreBusyError(DocvalError):
    """A DuckDB file stayed locked by another process for longer than the allowed wait."""
