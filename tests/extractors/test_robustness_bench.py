"""The robustness benchmark at a small size: hostile inputs end in text or a typed quarantine, never crash or hang."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "robustness.py"


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    module = runpy.run_path(str(BENCH))  # defines main() without running it (__name__ is not "__main__")
    return module["main"](["--limit", "2", "--no-ocr"])


def test_files_and_generated_pdfs_never_crash_or_hang(figures: dict[str, object]) -> None:
    by_source = figures["by_source"]
    for source in ("malformed", "varied", "generated"):
        kinds = by_source[source]  # type: ignore[index]
        assert sum(kinds.values()) > 0
        assert kinds.get("crashed", 0) == 0 and kinds.get("hung", 0) == 0, (source, kinds)
    assert by_source["generated"].get("quarantined", 0) >= 4  # type: ignore[index]  # bomb, 10,000 pages x2, empty
    assert figures["peak_rss_together"] < 1024**3
    assert figures["outside_changed"] == 0


def test_inbox_cases_through_the_claim_path_never_crash(figures: dict[str, object]) -> None:
    kinds = figures["by_source"]["inbox"]  # type: ignore[index]
    assert sum(kinds.values()) >= 13 and kinds.get("crashed", 0) == 0, kinds


def test_inbox_cases_never_hang(figures: dict[str, object]) -> None:
    assert figures["by_source"]["inbox"].get("hung", 0) == 0  # type: ignore[index]
