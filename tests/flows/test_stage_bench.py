"""The per-stage benchmark runs at a small size and reports every stage for both sets, model tier and rules only."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "stage_bench.py"


def test_small_stage_benchmark_run(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCVAL_CONFIG", str(tmp_path / "docval.toml"))
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "var"))  # the bench points it elsewhere; restored after
    results = runpy.run_path(str(BENCH))["main"](["--limit", "2", "--samples", "2"])
    for figures in results.values():
        assert figures["docs"] == 2 and figures["total"] > 0
        assert all(figures[stage] > 0 for stage in ("ingest", "extract", "validate", "mask", "decide", "finish"))
        assert figures["ingest cpu"] > 0  # the sandbox children's parsing is counted
    out = capsys.readouterr().out
    assert "model tier:" in out and "rules only:" in out
