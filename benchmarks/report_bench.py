"""Report + evidence bundle time for N documents' worth of ledger entries, and verify.py time on the bundle.

Bars (DESIGN.md / issue 6): 100,000 documents reported and bundled in <= 60 s; one-document verification
(`verify.py BUNDLE --doc ID`, process start included) <= 0.5 s. Each document count runs twice: all
documents in the root ledger, and the same documents spread over ``--shards`` ledger shards anchored into
the root (a cluster, where every document is in a shard; 0 skips it). Ratios are against same-run
baselines, as the machine is shared: report+bundle vs the ledgers' own bare export of the same entries,
the sharded report vs the root-only one, and --doc vs a bare `python -c "import cryptography"`. CPU time
(user+sys) is printed next to every wall time, with the load average before and after: on a contended
machine CPU time is the better estimate of the wall time the same work takes on an idle one (the work is
single-threaded).

    python benchmarks/report_bench.py --docs 10000 100000 [--shards 3] [--workdir /dev/shm]

A bundle holds one proof file per document, so on a slow or contended disk file creation can dominate;
``--workdir /dev/shm`` measures the same work without the disk.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")

from docval.settings import Settings, load_settings  # noqa: E402
from docval.shards import shard_settings  # noqa: E402
from ledger import Ledger, anchor_shards, init_keys  # noqa: E402
from reports import Period, generate_report  # noqa: E402
from reports.synthetic import populate_ledgers  # noqa: E402

BAR_REPORT_100K_S = 60.0
BAR_DOC_VERIFY_S = 0.5


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user+sys) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def _ledgers(settings: Settings, shards: int) -> list[Ledger]:
    """The ledgers the documents go into: the root, or shards w1..wN (each with its own key)."""
    if not shards:
        return [Ledger.open(settings)]
    ledgers = []
    for number in range(1, shards + 1):
        shard = shard_settings(settings, f"w{number}")
        shard.ensure_dirs()
        init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
        ledgers.append(Ledger.open(shard))
    return ledgers


def bench(documents: int, work: Path, full_verify: bool, shards: int = 0) -> dict[str, float]:
    settings = load_settings(data_dir=work / "var")
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    root = Ledger.open(settings)
    ledgers = _ledgers(settings, shards)
    started = time.perf_counter()
    first = datetime.now(UTC)  # the period runs from here to the report: populating may cross midnight
    populate_ledgers(ledgers, documents, start=first, root=root if shards else None)
    if shards:
        assert not anchor_shards(settings).refused
        ledgers = [root, *ledgers]
    populate_s = time.perf_counter() - started
    size = sum(ledger.size() for ledger in ledgers)

    started = time.perf_counter()
    for number, ledger in enumerate(ledgers):
        ledger.export(work / f"bare-export-{number}")
    export_s = time.perf_counter() - started

    started, cpu_started = time.perf_counter(), time.process_time()
    period = Period.from_dates(first.date(), datetime.now(UTC).date())
    files = generate_report(settings, period, work / "out", bundle=True)
    report_s, report_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    assert files.complete and files.bundle is not None and files.zip is not None

    verify = [sys.executable, str(files.bundle / "verify.py"), str(files.bundle)]
    proofs = [files.bundle / "proofs", *(files.bundle / "shards").glob("*/proofs")]
    docs = sorted(path.stem for folder in proofs for path in folder.iterdir())
    doc_runs = [_timed([*verify, "--doc", docs[i * len(docs) // 5]]) for i in range(5)]
    python_s = statistics.median(_timed([sys.executable, "-c", "import cryptography"])[0] for _ in range(5))
    full_s, full_cpu_s = _timed(verify) if full_verify else (float("nan"), float("nan"))
    return {
        "documents": documents, "shards": shards, "entries": size, "populate_s": populate_s, "export_s": export_s,
        "report_bundle_s": report_s, "report_bundle_cpu_s": report_cpu_s, "zip_mb": files.zip.stat().st_size / 1e6,
        "verify_full_s": full_s, "verify_full_cpu_s": full_cpu_s,
        "verify_doc_s": statistics.median(wall for wall, _ in doc_runs),
        "verify_doc_cpu_s": statistics.median(cpu for _, cpu in doc_runs), "python_start_s": python_s,
    }  # fmt: skip


def _line(r: dict[str, float], load_before: str) -> str:
    where = f"{r['shards']} shards" if r["shards"] else "root only"
    return (
        f"{r['documents']:>7} docs / {r['entries']:>8} entries, {where}: report+bundle {r['report_bundle_s']:.1f} s "
        f"(CPU {r['report_bundle_cpu_s']:.1f} s) "
        f"({r['report_bundle_s'] / r['export_s']:.1f}x bare ledger export {r['export_s']:.1f} s), "
        f"zip {r['zip_mb']:.0f} MB; "
        f"verify.py full {r['verify_full_s']:.1f} s (CPU {r['verify_full_cpu_s']:.1f} s), "
        f"--doc {r['verify_doc_s']:.3f} s (CPU {r['verify_doc_cpu_s']:.3f} s) "
        f"({r['verify_doc_s'] / r['python_start_s']:.1f}x bare python start {r['python_start_s']:.3f} s); "
        f"populating took {r['populate_s']:.1f} s; load average {load_before} -> {_load()}"
    )


def _missed(r: dict[str, float]) -> list[str]:
    missed = []
    if r["documents"] >= 100_000 and r["report_bundle_s"] > BAR_REPORT_100K_S:
        missed.append(f"report+bundle {r['report_bundle_s']:.1f} s > {BAR_REPORT_100K_S} s")
    if r["verify_doc_s"] > BAR_DOC_VERIFY_S:
        missed.append(f"--doc {r['verify_doc_s']:.3f} s > {BAR_DOC_VERIFY_S} s")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000], help="document counts to run")
    parser.add_argument("--shards", type=int, default=3, help="shards of the sharded run (0: root only)")
    parser.add_argument("--no-full-verify", action="store_true", help="skip the full verify.py run")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where ledger and bundle go (default: system temp; /dev/shm = RAM)"
    )
    args = parser.parse_args()
    ok = True
    for documents in args.docs:
        runs = []
        for shards in sorted({0, args.shards}):
            with tempfile.TemporaryDirectory(prefix="report-bench-", dir=args.workdir) as tmp:
                load_before = _load()
                runs.append(bench(documents, Path(tmp), not args.no_full_verify, shards))
            print(_line(runs[-1], load_before), flush=True)
            for missed in _missed(runs[-1]):
                print(f"  BAR MISSED: {missed}")
                ok = False
        if len(runs) == 2:
            root, sharded = runs
            print(
                f"  {documents} docs, {sharded['shards']} shards vs root only: report+bundle wall "
                f"{sharded['report_bundle_s'] / root['report_bundle_s']:.2f}x, "
                f"CPU {sharded['report_bundle_cpu_s'] / root['report_bundle_cpu_s']:.2f}x"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
