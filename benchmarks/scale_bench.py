"""Many workers: docs/s with 1, 2 and 3 process workers, PostgreSQL vs SQLite server, Prefect API cost per document.

    python benchmarks/scale_bench.py [--docs 300] [--workers 1,2,3] [--sqlite-workers 3] [--approvals-workers 3]
                                     [--chunk N]

Each configuration is a real ``docval cluster up`` (flows/cluster/dispatcher.py) in a
fresh data directory: its own PostgreSQL (or the SQLite server for the
baseline), Prefect server, work pool and N ``prefect worker`` processes. Once
it is up, the same text-PDF documents (pipeline_bench's, made distinct) are
dropped into the inbox at once; the clock runs from the drop to the last
outbox result. Start-up (initdb, server, workers) is outside the clock.
Figures per configuration: docs/s, speed-up over 1 worker, CPU seconds of the
whole tree (cluster process, server, workers, their flow runs; PostgreSQL's
processes read from /proc before it stops), API calls per document (the
server's access log over the timed window) and the median latency of one API
read (``POST /flow_runs/filter``) measured right after, against that server.
Every document must be decided exactly once: one outbox file and one final
ledger entry per document over all shards.

The worker-count and SQLite configurations run a policy under which no
document waits for people, so they measure processing. ``pg-N+approvals``
runs the default policy, under which most of these documents wait. Waiting
documents now hold no run (flows/approvals/: ledger entries only, one deadline
run scheduled for the earliest deadline); its row shows what the default
policy costs the same machine, and the last line its throughput against the
``pg-N`` row with the same workers in the same run (issue 12's bar: within 10 %;
figures in benchmarks/README.md before that change were measured with one
paused run per waiting document). ``--workers 3 --sqlite-workers 0`` runs just
that pair.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

FINAL = {"doc.published", "doc.rejected", "doc.quarantined", "approval.requested"}
NOBODY_WAITS_POLICY = "# scale_bench: processing only, no document waits for people\ndefault: auto_approve\nrules: []\n"


@dataclass
class Figures:
    label: str
    workers: int
    docs: int
    seconds: float
    cpu_seconds: float
    api_calls: int
    events: int
    api_latency_ms: float
    final_entries: int
    shards: int

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds

    @property
    def calls_per_doc(self) -> float:
        return self.api_calls / self.docs


def _postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the postmaster and its children (pg_ctl daemonises them, so rusage never sees them)."""
    pid_file = data_dir / "postgres" / "data" / "postmaster.pid"
    if not pid_file.exists():
        return 0.0
    postmaster = pid_file.read_text().split()[0]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == postmaster or fields[1] == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _api_latency_ms(api_url: str, calls: int = 30) -> float:
    import httpx

    timings = []
    with httpx.Client(timeout=10) as client:
        for _ in range(calls):
            started = time.perf_counter()
            client.post(f"{api_url}/flow_runs/filter", json={"limit": 1}).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _access_lines(data_dir: Path) -> int:
    log = data_dir / "prefect" / "server.log"
    return log.read_bytes().count(b"uvicorn.access") if log.exists() else 0


def _events(data_dir: Path, postgres: bool) -> int:
    """Rows in the server's ``events`` table: task-run states go over a websocket, so the access log misses them."""
    if postgres:
        import asyncio

        import asyncpg

        from flows.cluster.postgres import Postgres

        url = Postgres(data_dir / "postgres", data_dir / "keys").url().replace("+asyncpg", "")

        async def count() -> int:
            connection = await asyncpg.connect(url)
            try:
                return int(await connection.fetchval("SELECT count(*) FROM events"))
            finally:
                await connection.close()

        return asyncio.run(count())
    import sqlite3

    with sqlite3.connect(f"file:{data_dir / 'prefect' / 'prefect.db'}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


def _final_entries(data_dir: Path) -> tuple[int, int]:
    """Final ledger entries over all shards (a document decided twice would count twice), and the shard count."""
    from docval.settings import load_settings
    from docval.shards import shard_names, shard_settings
    from ledger import Ledger

    settings = load_settings(data_dir=data_dir)
    names = shard_names(settings)
    finals = 0
    for name in names:
        ledger = Ledger.open(shard_settings(settings, name))
        assert ledger.verify().ok, f"shard {name} does not verify"
        finals += sum(1 for entry in ledger.entries() if str(entry.kind) in FINAL)
    return finals, len(names)


def run_cluster(
    root: Path, label: str, documents: list[bytes], *, workers: int, postgres: bool, chunk: int, approvals: bool
) -> Figures:
    from flows.env import free_port

    data_dir = root / label
    if not approvals:
        data_dir.mkdir(parents=True)
        (data_dir / "policy.yaml").write_text(NOBODY_WAITS_POLICY, encoding="utf-8")
    api_url = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ,
        "DOCVAL_DATA_DIR": str(data_dir),
        "DOCVAL_CONFIG": str(root / "docval.toml"),
        "DOCVAL_FLOWS__PREFECT_API_URL": api_url,
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        "PREFECT_SERVER_LOGGING_LEVEL": "INFO",  # the access log counts API calls
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "docval", "cluster", "up", "--workers", str(workers)]
    if chunk:
        command += ["--chunk", str(chunk)]
    if not postgres:
        command.append("--no-postgres")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if "Prefect UI:" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(180):
            raise RuntimeError("cluster did not come up:\n" + "".join(output[-30:]))
        inbox, outbox = data_dir / "inbox", data_dir / "outbox"
        for index, data in enumerate(documents):  # whole files appear at once: written aside, then renamed in
            (inbox / f".doc-{index:05d}.tmp").write_bytes(data)
            (inbox / f".doc-{index:05d}.tmp").rename(inbox / f"doc-{index:05d}.pdf")
        calls_before, events_before = _access_lines(data_dir), _events(data_dir, postgres)
        started = time.perf_counter()
        deadline = started + 60 + 5 * len(documents)
        while sum(1 for _ in outbox.glob("*.json")) < len(documents):
            if time.perf_counter() > deadline or process.poll() is not None:
                raise RuntimeError(f"{label}: not every document reached the outbox:\n" + "".join(output[-30:]))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        calls = _access_lines(data_dir) - calls_before
        events = _events(data_dir, postgres) - events_before
        latency = _api_latency_ms(api_url)
        postgres_cpu = _postgres_cpu(data_dir)
    finally:
        process.send_signal(signal.SIGTERM)  # what Ctrl-C does: everything must stop cleanly
        process.wait(180)
    if process.returncode != 0 or "cluster stopped cleanly" not in "".join(output):
        raise RuntimeError(f"{label}: unclean stop ({process.returncode}):\n" + "".join(output[-30:]))
    if (data_dir / "postgres" / "data" / "postmaster.pid").exists():
        raise RuntimeError(f"{label}: PostgreSQL still running after the stop")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + postgres_cpu
    finals, shards = _final_entries(data_dir)
    return Figures(label, workers, len(documents), seconds, cpu, calls, events, latency, finals, shards)


def _table(figures: list[Figures]) -> str:
    base = next((f for f in figures if f.workers == 1 and f.label.startswith("pg")), figures[0])
    lines = [
        f"{'config':<16}{'workers':>8}{'docs':>6}{'wall s':>9}{'docs/s':>9}{'speed-up':>10}"
        f"{'CPU s':>8}{'API calls/doc':>15}{'events/doc':>12}{'API ms':>8}{'API s/doc':>11}"
    ]
    for f in figures:
        lines.append(
            f"{f.label:<16}{f.workers:>8}{f.docs:>6}{f.seconds:>9.1f}{f.docs_per_second:>9.2f}"
            f"{f.docs_per_second / base.docs_per_second:>9.2f}x{f.cpu_seconds:>8.1f}{f.calls_per_doc:>15.2f}"
            f"{f.events / f.docs:>12.2f}"
            f"{f.api_latency_ms:>8.1f}{f.calls_per_doc * f.api_latency_ms / 1000:>11.4f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Figures]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300, help="documents per configuration")
    parser.add_argument("--workers", default="1,2,3", help="worker counts on PostgreSQL, comma-separated")
    parser.add_argument("--sqlite-workers", type=int, default=3, help="worker count of the SQLite baseline (0: none)")
    parser.add_argument(
        "--approvals-workers",
        type=int,
        default=3,
        help="workers of the default-policy run, approvals included (0: none)",
    )
    parser.add_argument("--chunk", type=int, default=0, help="at most N files per flow run (0: flows.batch_max)")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="docval-scale-bench-"))
    root.chmod(0o755)  # PostgreSQL runs as its own user when we are root: it must reach its folder
    from pipeline_bench import _documents

    documents = _documents(root / "samples", args.docs)
    configs = [(f"pg-{n}", n, True, False) for n in map(int, args.workers.split(","))]
    if args.sqlite_workers:
        configs.append((f"sqlite-{args.sqlite_workers}", args.sqlite_workers, False, False))
    if args.approvals_workers:
        configs.append((f"pg-{args.approvals_workers}+approvals", args.approvals_workers, True, True))
    figures = []
    try:
        for label, workers, postgres, approvals in configs:
            figure = run_cluster(
                root, label, documents, workers=workers, postgres=postgres, chunk=args.chunk, approvals=approvals
            )
            assert figure.final_entries == figure.docs, f"{label}: {figure.final_entries} finals for {figure.docs} docs"
            figures.append(figure)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average (1/5/15 min) at the end: {os.getloadavg()}; cores: {os.cpu_count()}")
    print(_table(figures))
    pg = {f.workers: f for f in figures if f.label.startswith("pg") and "+" not in f.label}
    sqlite = next((f for f in figures if f.label.startswith("sqlite")), None)
    if sqlite is not None and sqlite.workers in pg:
        same = pg[sqlite.workers]
        print(
            f"PostgreSQL vs SQLite server, {sqlite.workers} workers: {same.docs_per_second:.2f} vs "
            f"{sqlite.docs_per_second:.2f} docs/s ({same.docs_per_second / sqlite.docs_per_second:.2f}x), "
            f"API read {same.api_latency_ms:.1f} vs {sqlite.api_latency_ms:.1f} ms"
        )
    waited = next((f for f in figures if f.label.endswith("+approvals")), None)
    if waited is not None and waited.workers in pg:
        print(_waiting_line(waited, pg[waited.workers]))
    return figures


def _waiting_line(waited: Figures, nobody: Figures) -> str:
    """Issue 12's bar: throughput under the default policy within 10 % of the same cluster's when nobody waits."""
    ratio = waited.docs_per_second / nobody.docs_per_second
    verdict = "met" if ratio >= 0.9 else "MISSED"
    return (
        f"default policy vs nobody waits, {waited.workers} workers: {waited.docs_per_second:.2f} vs "
        f"{nobody.docs_per_second:.2f} docs/s ({ratio:.2f}x; bar >= 0.90x: {verdict}), "
        f"CPU {waited.cpu_seconds:.1f} vs {nobody.cpu_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
