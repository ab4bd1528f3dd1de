"""``docval process FOLDER --wait`` end to end: docs/s with the trained model tier on and rules only, in one run.

    python benchmarks/process_bench.py [--copies 1] [--samples 58]

Sets: the shared ZUGFeRD PDFs (all of them, gathered into one folder; ``--copies N``
adds N-1 copies of each made distinct by a trailing comment, so one batch is
longer) and as many ``docval samples`` text PDFs. Per set and router, a fresh
data directory with a nobody-waits policy (every document is processed and
published, none waits for people) and the command run as users run it, a
subprocess, timed from its start to its exit: interpreter and CLI start, claim,
the ``process-batch`` flow run, the summary. One Prefect server is started for
the whole run and named by URL, as a running appliance's is; one more run of the
shared set, model tier, is standalone (no server answering, a fresh data
directory), as a script or cron job runs it: the command starts a temporary
server while it loads its models. The command's fixed
cost (interpreter, Presidio and model load, the flow run's start) is measured
on a one-document folder of the same set; the batch rate is
(N - 1) / (seconds for N - seconds for 1). CPU is summed over every process
the run involves (the command, its sandbox children, the Prefect server),
polled every 50 ms; the batch's CPU per document, (CPU for N - CPU for 1) /
(N - 1), depends far less on the machine's load than wall time does, and
2 cores / it is the rate two idle cores would allow.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NOBODY_WAITS_POLICY = (
    "# process_bench: processing only, no document waits for people\ndefault: auto_approve\nrules: []\n"
)
ROUTERS = {"model tier": "true", "rules only": "false"}
DOCVAL = Path(sys.executable).with_name("docval")
REPEATS = 3  # runs beside a live appliance, median taken


def _gather(sources: list[Path], folder: Path, copies: int, *, tag: object = "") -> Path:
    """``sources`` as distinct files directly inside ``folder`` (``docval process`` reads one folder level);
    ``tag``: made distinct from every other gathering too."""
    folder.mkdir(parents=True)
    for index, source in enumerate(sources):
        data = source.read_bytes()
        for copy in range(copies):
            suffix = f"\n% copy {copy} {tag}\n".encode() if copy or tag != "" else b""
            (folder / f"{index:03d}-{copy}-{source.name}").write_bytes(data + suffix)
    return folder


def _samples(folder: Path, count: int) -> list[Path]:
    from extractors.samples import write_sample_inbox

    written = [s for s in write_sample_inbox(folder, count=max(count, 16)) if s.kind is not None and not s.ocr]
    return [folder / sample.file for sample in written][:count]


def fresh(data_dir: Path, api_url: str, trained: str) -> dict[str, str]:
    """The environment of a fresh data directory with the nobody-waits policy."""
    from flows.env import free_port

    data_dir.mkdir(mode=0o700)
    (data_dir / "policy.yaml").write_text(NOBODY_WAITS_POLICY, encoding="utf-8")
    return os.environ | {
        "DOCVAL_CONFIG": str(data_dir / "docval.toml"),
        "DOCVAL_DATA_DIR": str(data_dir),
        "DOCVAL_FLOWS__PREFECT_API_URL": api_url,
        "DOCVAL_EXTRACT__ROUTER__TRAINED_MODEL": trained,
        "DOCVAL_WORKBENCH__PORT": str(free_port()),
    }


@contextmanager
def appliance(env: dict[str, str]) -> Iterator[int]:
    """``docval up`` on ``env``'s data directory, from its start-up lines to its stop (SIGTERM); yields its pid."""
    with subprocess.Popen(
        [str(DOCVAL), "up", "--no-samples"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as up:
        assert up.stdout is not None
        for line in up.stdout:
            if line.startswith("Prefect UI: "):
                break
        else:
            raise SystemExit("docval up did not start")
        try:
            yield up.pid
        finally:
            up.send_signal(signal.SIGTERM)
            up.communicate(timeout=120)


def run(folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds for one ``docval process FOLDER --wait`` in ``env`` (CPU: every process of this
    bench, so the command, its sandbox children, the Prefect server and a running appliance); fails loudly if
    the command does."""
    before = _descendants_cpu({})
    started = time.perf_counter()
    with subprocess.Popen(
        [str(DOCVAL), "process", str(folder), "--wait"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as command:
        seen = dict(before)
        while command.poll() is None:
            seen = _descendants_cpu(seen)
            time.sleep(0.05)
        out, err = command.communicate()
    seconds = time.perf_counter() - started
    if command.returncode != 0 or "published" not in out:
        raise SystemExit(f"docval process failed ({command.returncode}): {out[-800:]} {err[-800:]}")
    return seconds, sum(seen.values()) - sum(before.values())


def _descendants_cpu(seen: dict[int, float]) -> dict[int, float]:
    """CPU seconds per descendant process of this one (the command, its sandbox children, the Prefect server),
    the last value seen for processes that have exited since (so up to one poll interval of their end is lost)."""
    import psutil

    current = dict(seen)
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        current[process.pid] = times.user + times.system
    return current


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the figures; return docs/s keyed ``SET / ROUTER``."""
    from docval.settings import load_settings
    from flows.env import free_port
    from flows.server import PrefectServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of each shared PDF (1: the 58 files once)")
    parser.add_argument("--samples", type=int, default=0, help="sample PDFs (0: as many as real documents)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N shared PDFs (0: all)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="docval-process-bench-"))
    real = sorted((SHARED / "zugferd" / "pdfs").rglob("*.pdf"))[: args.limit or None]
    count = len(list(_gather(real, root / "in" / "zugferd", args.copies).iterdir()))
    samples = _samples(root / "generated", args.samples or count)
    sets = {"shared ZUGFeRD": (root / "in" / "zugferd", count)}
    sets["samples"] = (root / "in" / "samples", len(list(_gather(samples, root / "in" / "samples", 1).iterdir())))
    for name, (folder, _) in list(sets.items()):
        sets[f"{name} (1 doc)"] = (folder.with_name(f"{folder.name}-one"), 1)
        _gather([next(iter(sorted(folder.iterdir())))], folder.with_name(f"{folder.name}-one"), 1)
    os.environ["DOCVAL_DATA_DIR"] = str(root / "server")
    os.environ["DOCVAL_CONFIG"] = str(root / "server.toml")
    started = time.perf_counter()
    server = PrefectServer.ensure(load_settings(), f"http://127.0.0.1:{free_port()}/api")
    print(
        f"Prefect server start (paid once by a standalone run without a server): {time.perf_counter() - started:.1f} s"
    )
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    try:
        for router, trained in ROUTERS.items():
            for name, (folder, docs) in sets.items():
                key = f"{name} / {router}"
                env = fresh(root / key.replace(" ", "-").replace("/", ""), server.api_url, trained)
                seconds[key], cpu[key] = run(folder, env)
                print(f"{router:<11} {name:<22} {docs:4d} docs  {seconds[key]:6.2f} s  CPU {cpu[key]:6.2f} s")
        beside = {router: beside_appliance(sets["shared ZUGFeRD"], root, server.api_url, trained)
                  for router, trained in ROUTERS.items()}  # fmt: skip
    finally:
        server.stop()
    # as a script or cron job runs it: no server answering, a fresh data directory; the command starts its own
    folder, docs = sets["shared ZUGFeRD"]
    alone, alone_cpu = run(folder, fresh(root / "standalone", f"http://127.0.0.1:{free_port()}/api", "true"))
    print(
        f"standalone  shared ZUGFeRD {docs:4d} docs  {alone:6.2f} s  CPU {alone_cpu:6.2f} s  (model tier, no server "
        f"running, fresh data directory: whole command {docs / alone:.1f} docs/s)"
    )
    rates: dict[str, float] = {}
    for name in ("shared ZUGFeRD", "samples"):
        docs = sets[name][1]
        for router in ROUTERS:
            whole, one = seconds[f"{name} / {router}"], seconds[f"{name} (1 doc) / {router}"]
            rates[f"{name} / {router}"] = (docs - 1) / (whole - one)
            per_doc = 1000 * (cpu[f"{name} / {router}"] - cpu[f"{name} (1 doc) / {router}"]) / (docs - 1)
            print(
                f"{name:<15} {router:<11} whole command {docs / whole:5.1f} docs/s, batch "
                f"{rates[f'{name} / {router}']:5.1f} docs/s (fixed cost {one:.1f} s); batch CPU {per_doc:5.1f} ms/doc "
                f"(2 cores: {2000 / per_doc:5.1f} docs/s)"
            )
        ratio = rates[f"{name} / model tier"] / rates[f"{name} / rules only"]
        print(f"{name:<15} model tier / rules only (batch): {ratio:.2f}")
    docs = sets["shared ZUGFeRD"][1]
    for router, (whole, one, per_doc) in beside.items():
        rates[f"beside docval up / {router}"] = docs / whole
        print(
            f"beside docval up, shared ZUGFeRD, {router:<11} whole command {docs / whole:5.1f} docs/s "
            f"({whole:.2f} s; one document {one:.2f} s); CPU {per_doc:5.1f} ms/doc"
        )
    ratio = rates["beside docval up / model tier"] / rates["beside docval up / rules only"]
    print(f"beside docval up, model tier / rules only (whole command): {ratio:.2f}")
    return rates


def beside_appliance(shared: tuple[Path, int], root: Path, api_url: str, trained: str) -> tuple[float, float, float]:
    """The whole command handing its files to a running ``docval up`` (flows/handoff.py): median seconds for the
    folder and for one document, and CPU ms per document of the folder runs (every process of the bench).

    A one-document folder first warms the appliance as a day's earlier batches would. Then, ``REPEATS`` times,
    the folder and a single document, each copy made distinct by a trailing comment so every run has new
    documents to process: one run beside a live appliance moves by a few tenths of a second either way.
    """
    folder, docs = shared
    first = sorted(folder.iterdir())[0]
    env = fresh(root / f"beside-{trained}", api_url, trained)
    wholes: list[float] = []
    ones: list[float] = []
    cpu = 0.0
    with appliance(env):
        run(_gather([first], root / f"beside-{trained}-warm", 1, tag="warm"), env)
        for repeat in range(REPEATS):
            whole, whole_cpu = run(
                _gather(sorted(folder.iterdir()), root / f"beside-{trained}-{repeat}", 1, tag=repeat), env
            )
            one, _ = run(_gather([first], root / f"beside-{trained}-{repeat}-one", 1, tag=f"one {repeat}"), env)
            wholes.append(whole)
            ones.append(one)
            cpu += whole_cpu
    return statistics.median(wholes), statistics.median(ones), 1000 * cpu / (docs * REPEATS)


if __name__ == "__main__":
    main()
