"""A small run of benchmarks/pipeline_bench.py so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from docval.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pipeline_bench.py"


def test_small_pipeline_bench(
    flow_settings: Settings, prefect_server, monkeypatch: pytest.MonkeyPatch, capsys, load_benchmark
):
    for name in ("DOCVAL_DATA_DIR", "DOCVAL_CONFIG", "DOCVAL_FLOWS__PREFECT_API_URL"):
        monkeypatch.setenv(name, "restored-after-the-test")
    bench = load_benchmark("pipeline_bench")
    figures = bench.main(["--docs", "12", "--latency-files", "2", "--rounds", "1", "--api-url", prefect_server[0]])
    assert figures["plain_docs_per_second"] > 0 and figures["flow_docs_per_second"] > 0
    assert math.isfinite(figures["overhead"])
    assert 0 < figures["latency_median_s"] < 60
    assert "orchestration overhead" in capsys.readouterr().out
