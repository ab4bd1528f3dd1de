"""A small run of benchmarks/pii_bench.py, so the benchmark cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pii_bench.py"


def test_small_benchmark_prints_figures_and_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--docs", "60", "--chars", "5000"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bare presidio analyze"]["docs_per_s"] > 0
    assert figures["docval mask_text, no NER"]["chars_per_s_long"] > 0
    assert "vs bare" in result.stdout
