"""The ledger benchmark at 10,000 entries, so it cannot rot (full size: `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "ledger_bench.py"


def test_ledger_benchmark_small_run_prints_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--entries", "10000", "--batch", "2000", "--proofs", "50",
         "--shard-entries", "4000"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for figure in (
        "baseline bare SHA-256 leaf hashing",
        "appends into DuckDB with batch checkpoints",
        "x bare SHA-256",
        "full verify",
        "median inclusion proof at 10,000",
        "consistency proof",
        "MB per million entries",
        "anchor pass, first anchoring of 3 shards",
        "anchor pass after one more batch per shard",
        "verify over root + 3 shards (12,000 entries)",
    ):
        assert figure in out, out
    assert "checkpoints signed: 5" in out


def test_witness_benchmark_small_run_prints_every_figure() -> None:
    bench = BENCH.with_name("witness_bench.py")
    result = subprocess.run(
        [sys.executable, str(bench), "--entries", "2000", "--batch", "1000", "--checkpoints", "20", "--logs", "2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for figure in ("witnessing off", "on/off", "cosignatures stored", "cosigned/s", "bare Ed25519 verify+sign"):
        assert figure in result.stdout, result.stdout
