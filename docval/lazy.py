"""Package surfaces that import their modules on first use (PEP 562).

``docval --help`` imports every package's ``cli`` module, and importing
``ledger.cli`` runs ``ledger/__init__.py`` first. A package ``__init__`` that
re-exported its classes eagerly pulled in DuckDB, Presidio/spaCy and
matplotlib before any command ran (seconds); with ``lazy_exports`` the public
names stay where they were (``from ledger import Ledger``) and cost nothing
until one of them is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package``; ``exports`` maps each public name to its module."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
