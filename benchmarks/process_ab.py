"""``docval process FOLDER --wait`` beside a running ``docval up``: this tree against another checkout, in pairs.

    python benchmarks/process_ab.py /path/to/other/checkout [--pairs 8] [--rules-only]

One run beside a live appliance moves by a few tenths of a second either way (process_bench.py), more than most
changes gain. So each tree gets its own Prefect server and its own ``docval up`` (run from that tree:
``PYTHONPATH``, and a neutral working directory for the sandbox children's ``python -m``), both warmed on one
document, and then the 58 shared ZUGFeRD PDFs go to each in turn, the order swapped every pair, each time as new
copies (a trailing comment), so both meet the same moments of the machine. While one tree runs, the other's
server and appliance (with its children) are stopped (SIGSTOP, then SIGCONT): an idle appliance and server poll,
and the measured one should have the machine as it would alone. Prints every run, the medians and the per-pair
ratio this tree / other (under 1: this tree is faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.process_bench import ROUTERS, SHARED, _gather, appliance, fresh, run

THIS = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> float:
    """Print the pairs; return the median ratio of this tree's seconds to the other's."""
    from docval.settings import load_settings
    from flows.env import free_port
    from flows.server import PrefectServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="another checkout of docval (e.g. a git worktree of main)")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--rules-only", action="store_true", help="both trees without the trained model tier")
    args = parser.parse_args(argv)
    trees = {"this": THIS, "other": args.other.resolve()}
    trained = ROUTERS["rules only" if args.rules_only else "model tier"]
    root = Path(tempfile.mkdtemp(prefix="docval-process-ab-"))
    os.chdir(root)  # children run ``python -m extractors.sandbox``: their working directory must hold no tree
    real = sorted((SHARED / "zugferd" / "pdfs").rglob("*.pdf"))
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    with ExitStack() as stack:
        envs: dict[str, dict[str, str]] = {}
        pids: dict[str, list[int]] = {}
        for name, tree in trees.items():
            os.environ["DOCVAL_DATA_DIR"] = str(root / f"server-{name}")
            os.environ["DOCVAL_CONFIG"] = str(root / f"server-{name}.toml")
            server = PrefectServer.ensure(load_settings(), f"http://127.0.0.1:{free_port()}/api")
            stack.callback(server.stop)
            envs[name] = fresh(root / name, server.api_url, trained) | {"PYTHONPATH": str(tree)}
            pids[name] = [server.process.pid] if server.process else []
            pids[name].append(stack.enter_context(appliance(envs[name])))
            run(_gather(real[:1], root / f"{name}-warm", 1, tag=f"warm {name}"), envs[name])
        for pair in range(args.pairs):
            for name in trees if pair % 2 == 0 else reversed(trees):
                folder = _gather(real, root / f"{name}-{pair}", 1, tag=f"{name} {pair}")
                with stopped([pid for other, some in pids.items() if other != name for pid in some]):
                    wall, cpu = run(folder, envs[name])
                seconds[name].append(wall)
                rate, per_doc = len(real) / wall, 1000 * cpu / len(real)
                print(f"pair {pair} {name:<5} {wall:5.2f} s  {rate:5.1f} docs/s  CPU {per_doc:5.1f} ms/doc", flush=True)
    for name, tree in trees.items():
        median = statistics.median(seconds[name])
        print(f"{name:<5} ({tree}): median {median:.2f} s = {len(real) / median:.1f} docs/s")
    ratios = [mine / theirs for mine, theirs in zip(seconds["this"], seconds["other"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"this / other, per pair: median {ratio:.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
    return ratio


@contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    """The processes ``pids`` and all their descendants stopped for the length of the block."""
    import psutil

    processes = [process for pid in pids for process in (psutil.Process(pid), *psutil.Process(pid).children(True))]
    for process in processes:
        process.suspend()
    try:
        yield
    finally:
        for process in processes:
            process.resume()


if __name__ == "__main__":
    main()
