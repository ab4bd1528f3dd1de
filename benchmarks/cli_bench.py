"""How long ``docval --help`` takes, against a bare interpreter start in the same run.

    python benchmarks/cli_bench.py [--runs 9]

Each command runs ``--runs`` times, interleaved (bare, help, bare, help, …) so
load from other work on the machine hits both alike; the medians and the
difference are printed. The bar (issue 16) is ``docval --help`` ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "docval --help": [str(Path(sys.executable).with_name("docval")), "--help"],
}


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the figures; return the medians by command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    for command in COMMANDS.values():
        _wall(command)  # warm the page cache once
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(args.runs):
        for label, command in COMMANDS.items():
            times[label].append(_wall(command))
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(f"{label:<16} median {medians[label]:.3f} s  min {min(values):.3f} s  max {max(values):.3f} s")
    extra = medians["docval --help"] - medians["python -c pass"]
    ratio = medians["docval --help"] / medians["python -c pass"]
    print(f"docval --help costs {extra:.3f} s over a bare interpreter ({ratio:.1f} x); bar 0.5 s")
    return medians


if __name__ == "__main__":
    main()
