"""Modules a new maintainer reads in one sitting: at most ~400 lines, split by job when one grows past it.

The modules already past the limit are listed with their size when this check came in; they may shrink,
never grow, and a module not listed may not cross the limit. Tests are left out (a story of cases reads
top to bottom).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "approvals",
    "benchmarks",
    "docval",
    "extractors",
    "flows",
    "ledger",
    "pii",
    "reports",
    "scripts",
    "workbench",
)
LIMIT = 400
KNOWN_LARGER = {
    "ledger/bundle_verify.py": 1578,  # the standalone verify.py an auditor runs: one file by design
}


def _sizes() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }


def test_no_module_grows_past_the_limit() -> None:
    too_long = {name: lines for name, lines in _sizes().items() if lines > max(LIMIT, KNOWN_LARGER.get(name, LIMIT))}
    assert too_long == {}, f"split these by job (at most {LIMIT} lines, or the size listed in KNOWN_LARGER)"
