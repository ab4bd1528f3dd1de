"""A small run of benchmarks/idle_bench.py so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "idle_bench.py"


@pytest.mark.slow  # two `docval up` starts: ~1 min on 2 cores
def test_small_idle_bench_samples_both_appliances() -> None:
    done = subprocess.run(
        [sys.executable, BENCH, "--waiting", "20", "--seconds", "3", "--settle", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for waiting in (0, 20):
        line = re.search(rf"^\s*{waiting} waiting: idle CPU ([0-9.]+) s .* RSS tree ([0-9]+) MiB", done.stdout, re.M)
        assert line is not None, done.stdout
        assert float(line[1]) > 0 and int(line[2]) > 100  # a live tree: Prefect server, served flows, docval up
    assert done.stdout.count("CPU s by process: docval up") == 2
    assert "20 waiting vs none: idle CPU" in done.stdout
