"""A small run of benchmarks/workbench_bench.py so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "workbench_bench.py"


def test_small_workbench_bench(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("workbench_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "workbench_bench", bench)
    spec.loader.exec_module(bench)
    figures = bench.main(["--docs", "60", "--baseline-docs", "5", "--repeats", "1"])
    assert all(value > 0 for value in figures.values())
    assert figures["document_cold_ms"] > 0 and "document + 3 page images, cached" in capsys.readouterr().out
