"""What a standalone ``docval process --wait`` pays to get a Prefect API: a temporary server vs ephemeral mode.

    python benchmarks/prefect_start_bench.py [--rounds 3]

Per round, in a fresh Prefect home each: start ``prefect server start`` on a
free 127.0.0.1 port until ``/health`` answers (first start, which migrates the
database, then a second start on the same database), time the first flow call
of a fresh client against it, and time the first flow call of a fresh client
in ephemeral mode (no API URL: Prefect starts its own server inside the call).
Printed: medians and the ratio ephemeral / (server start + flow call).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.env import free_port
from flows.server import server_healthy

_FLOW = (
    "import time\nfrom prefect import flow\n@flow\ndef f():\n    return 1\n"
    "t = time.perf_counter(); f(); print(time.perf_counter() - t)\n"
)


def _quiet_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return env | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def _server_start(env: dict[str, str]) -> tuple[float, subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    start = time.perf_counter()
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env | {"PREFECT_API_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while not server_healthy(url, timeout=0.5):
        time.sleep(0.1)
    return time.perf_counter() - start, process, url


def _flow_call(env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", _FLOW], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the figures; return the medians (seconds): first, server, flow, ephemeral."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    figures: dict[str, list[float]] = {"first": [], "server": [], "flow": [], "ephemeral": []}
    with tempfile.TemporaryDirectory(prefix="prefect-start-") as root:
        for index in range(args.rounds):
            env = _quiet_env(Path(root) / str(index))
            first, process, _ = _server_start(env)
            process.terminate(), process.wait()
            warm, process, url = _server_start(env)
            try:
                flow = _flow_call(env | {"PREFECT_API_URL": url})
            finally:
                process.terminate(), process.wait()
            ephemeral = _flow_call(env)
            for key, value in zip(figures, (first, warm, flow, ephemeral), strict=True):
                figures[key].append(value)
            print(f"round {index}: first start {first:.2f} s, start {warm:.2f} s, flow call {flow:.2f} s, "
                  f"ephemeral flow call {ephemeral:.2f} s", flush=True)  # fmt: skip
    median = {key: statistics.median(values) for key, values in figures.items()}
    server_total = median["server"] + median["flow"]
    print(f"temporary server: start {median['server']:.2f} s (first, migrating: {median['first']:.2f} s) "
          f"+ first flow call {median['flow']:.2f} s = {server_total:.2f} s")  # fmt: skip
    ratio = median["ephemeral"] / server_total
    print(f"ephemeral mode: first flow call {median['ephemeral']:.2f} s ({ratio:.2f} x the temporary server)")
    return median


if __name__ == "__main__":
    main()
