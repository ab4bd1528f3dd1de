"""A small run of benchmarks/approvals_bench.py so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "approvals_bench.py"


def test_small_approvals_bench() -> None:
    done = subprocess.run(
        [sys.executable, BENCH, "--waiting", "40", "--decisions", "2"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "docval pending: 40 waiting" in done.stdout
    assert "decision → published outbox" in done.stdout and "over 2" in done.stdout
