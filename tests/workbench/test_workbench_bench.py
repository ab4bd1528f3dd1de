"""A small run of benchmarks/workbench_bench.py so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "workbench_bench.py"


def test_small_workbench_bench(load_benchmark, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("workbench_bench")
    figures = bench.main(["--docs", "60", "--baseline-docs", "5", "--repeats", "1"])
    assert all(value > 0 for value in figures.values())
    assert figures["document_cold_ms"] > 0 and "document + 3 page images, cached" in capsys.readouterr().out
