"""An idle appliance with a backlog of waiting documents beside one without (issue 12: idle CPU unchanged
within noise, RSS ≤ +100 MB).

    python benchmarks/idle_bench.py [--waiting 10000] [--seconds 60] [--rounds 1]

For each backlog (none, then ``--waiting``), a fresh data directory is prepared as ``docval up`` prepares it
(demo people enrolled), the backlog written by approvals_bench's builder (ledger entries, store rows and
outbox records as the pipeline leaves them), then ``docval up --no-samples`` starts on it. Once it prints its
workbench address and has settled for ``--settle`` seconds, the CPU time (user+sys, reaped children
included) of its whole process tree — dispatcher, Prefect server, served deployments, workbench — is sampled
over ``--seconds`` of idling with psutil, and the tree's resident memory read at the end; the tree's CPU
time from its start to the end of the settle time is printed too (start-up work that reads every waiting
document, which on a loaded machine can outlive the settle time). ``--rounds`` repeats
the pair (none, backlog, none, backlog, ...) so that drift in the machine's load shows as noise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from approvals_bench import _waiting
from decision_bench import Appliance, _env


@dataclass(frozen=True)
class Idle:
    waiting: int
    cpu_seconds: float
    seconds: float
    rss_mib: float  # whole tree
    main_rss_mib: float  # the `docval up` process alone
    processes: int
    load: float
    by_process: dict[str, float]  # CPU seconds per process of the tree, by its command line
    startup_cpu: float  # CPU seconds of the tree from its start to the end of the settle time

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.seconds


def _tree(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds per live process, its reaped children's included (so a child that ended is not lost)."""
    times = {}
    for process in processes:
        try:
            t = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        times[process.pid] = t.user + t.system + t.children_user + t.children_system
    return times


def _label(process: psutil.Process) -> str:
    """``docval up``, ``prefect server start``, ...: the command line after the interpreter and ``-m``."""
    try:
        words = [word for word in process.cmdline()[1:] if word != "-m"]
    except psutil.NoSuchProcess:
        return str(process.pid)
    return " ".join(words[:3]) or process.name()


def _rss_mib(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def prepared(root: Path, waiting: int) -> dict[str, str]:
    """A data directory as ``docval up`` prepares it, with ``waiting`` documents waiting; its environment."""
    (root / "home").mkdir(parents=True)  # the demo people's keys go to its ~/.config, outside the data directory
    env = _env(root / "var") | {"DOCVAL_CONFIG": str(root / "docval.toml"), "HOME": str(root / "home")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("DOCVAL_") or k == "HOME"})
    from docval.settings import load_settings
    from flows.appliance import prepare

    settings = load_settings()
    prepare(settings)
    if waiting:
        _waiting(settings, waiting, required=2, tag="waiting")
    return env


def idle(env: dict[str, str], waiting: int, seconds: float, settle: float) -> Idle:
    """Start ``docval up`` on a prepared data directory, let it settle, sample its tree while it idles."""
    appliance = Appliance(env, ("--no-samples",))
    try:
        appliance.wait_for("reviewer workbench: ")
        time.sleep(settle)
        main = psutil.Process(appliance.process.pid)
        before, started = _cpu(_tree(main)), time.monotonic()
        time.sleep(seconds)
        processes = _tree(main)
        after, elapsed = _cpu(processes), time.monotonic() - started
        spent = {pid: value - before.get(pid, 0.0) for pid, value in after.items()}
        by_process = {_label(process): spent.get(process.pid, 0.0) for process in processes}
        return Idle(
            waiting, sum(spent.values()), elapsed, _rss_mib(processes), _rss_mib([main]), len(processes),
            os.getloadavg()[0], by_process, sum(before.values()),
        )  # fmt: skip
    finally:
        appliance.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time sampled per appliance")
    parser.add_argument("--settle", type=float, default=15.0, help="wait after start-up before sampling")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    figures: dict[int, list[Idle]] = {0: [], args.waiting: []}
    with tempfile.TemporaryDirectory(prefix="docval-idle-") as tmp:
        envs = {waiting: prepared(Path(tmp) / str(waiting), waiting) for waiting in figures}
        for _ in range(args.rounds):
            for waiting, env in envs.items():
                figure = idle(env, waiting, args.seconds, args.settle)
                figures[waiting].append(figure)
                print(
                    f"{waiting:>6} waiting: idle CPU {figure.cpu_seconds:.2f} s over {figure.seconds:.0f} s "
                    f"({100 * figure.cpu_share:.2f} % of one core), RSS tree {figure.rss_mib:.0f} MiB "
                    f"({figure.processes} processes), docval up {figure.main_rss_mib:.0f} MiB; load {figure.load:.1f}",
                    flush=True,
                )
                print("    CPU s by process: " + ", ".join(f"{k} {v:.2f}" for k, v in figure.by_process.items()))
                print(f"    start-up until sampling (start, settle): {figure.startup_cpu:.2f} s CPU of the tree")
    none, backlog = (figures[key] for key in figures)
    cpu = statistics.median(f.cpu_seconds for f in backlog) / statistics.median(f.cpu_seconds for f in none)
    rss = statistics.median(f.rss_mib for f in backlog) - statistics.median(f.rss_mib for f in none)
    main_rss = statistics.median(f.main_rss_mib for f in backlog) - statistics.median(f.main_rss_mib for f in none)
    print(
        f"{args.waiting} waiting vs none: idle CPU {cpu:.2f}x, RSS tree {rss:+.0f} MiB, docval up {main_rss:+.0f} MiB "
        "(bars: idle CPU unchanged within noise, RSS ≤ +100 MB)"
    )


if __name__ == "__main__":
    main()
