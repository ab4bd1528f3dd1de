"""What showing the watcher's batches under ``process-batch/batch`` costs per batch (issue 16).

    python benchmarks/attribution_bench.py [--repeats 10]

Against a temporary Prefect server (``prefect_test_harness``) with the batch deployment registered, in a
fresh data directory: the batch flow called directly (what the watcher did before, the baseline) and
``process_claimed`` (a run created Pending from the deployment, then run in this process), interleaved, on
an empty batch so that only the per-run overhead is timed (the stages' work is the same either way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docval-attribution-") as tmp:
        os.environ.update({"DOCVAL_DATA_DIR": f"{tmp}/var", "DO_NOT_TRACK": "1"})
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        from prefect.testing.utilities import prefect_test_harness

        from docval.settings import load_settings
        from flows.appliance import prepare
        from flows.batch import process_batch, process_claimed

        prepare(load_settings(), demo=False)
        with prefect_test_harness(server_startup_timeout=120):
            process_batch.to_deployment(name="batch").apply()
            process_batch([], False)  # warm: models, client
            direct, attributed = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                process_batch([], False)
                direct.append(time.perf_counter() - start)
                start = time.perf_counter()
                process_claimed([], False)
                attributed.append(time.perf_counter() - start)
    base, run = statistics.median(direct), statistics.median(attributed)
    print(f"flow called directly (baseline)      median {base:.3f} s")
    print(f"run of process-batch/batch in-process median {run:.3f} s")
    print(f"cost per batch {run - base:+.3f} s ({run / base:.2f}x)  load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
