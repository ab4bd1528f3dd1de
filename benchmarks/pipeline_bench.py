"""Pipeline throughput through the Prefect flow vs the same work as plain calls, and watcher latency.

    python benchmarks/pipeline_bench.py [--docs 200] [--latency-files 20] [--api-url URL]

Same documents, same machine, same run: text-PDF samples (clean and with
validation defects) made distinct by a trailing comment. The baseline claims
and runs ``flows.pipeline.run_stages`` directly; the flow variant claims and
runs the ``process-batch`` flow (one flow run per batch, one task per stage)
against a real Prefect server. Each variant gets a fresh data directory, and
its models are loaded before the clock starts. Overhead = (flow - plain) / plain.
Watcher latency: files dropped one at a time into a watched inbox, time from
the write to the outbox file (includes the stability wait and batch window).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BARS = {"docs_per_second": 10.0, "overhead": 0.20}


def _documents(folder: Path, count: int) -> list[bytes]:
    from extractors.samples import write_sample_inbox

    text_pdfs = [s for s in write_sample_inbox(folder, count=24) if s.kind is not None and not s.ocr]
    bases = [(folder / s.file).read_bytes() for s in text_pdfs]
    return [bases[i % len(bases)] + f"\n% bench {i}\n".encode() for i in range(count)]


def _fresh_settings(root: Path, name: str):
    from docval.settings import load_settings
    from flows.appliance import prepare

    os.environ["DOCVAL_DATA_DIR"] = str(root / name)
    settings = load_settings()
    prepare(settings)
    return settings


def _drop(settings, documents: list[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(documents):
        path = settings.inbox / f"doc-{i:04d}.pdf"
        path.write_bytes(data)
        paths.append(path)
    return paths


def measure_throughput(root: Path, documents: list[bytes], *, flow: bool) -> float:
    """Seconds to claim and process ``documents`` (models loaded and, for the flow, one empty warm-up run done:
    a long-lived worker pays the client start-up once, not per batch)."""
    from flows.batch import build_context, process_batch, worker_context
    from flows.pipeline import load_batch, run_stages
    from flows.worker import Worker

    settings = _fresh_settings(root, f"{'flow' if flow else 'plain'}-{time.monotonic_ns()}")
    worker_context.cache_clear()
    ctx = worker_context() if flow else build_context(settings)
    if flow:
        process_batch([], False)

    def plain(docs: list[str], resumed: bool) -> dict[str, str]:
        return {work.doc: work.state.value for work in run_stages(ctx, load_batch(ctx, docs, resumed=resumed))}

    worker = Worker(ctx, process=(lambda d, r: process_batch(d, r)) if flow else plain, request_approvals=len)
    paths = _drop(settings, documents)
    started = time.perf_counter()
    docs = worker.claim(paths)
    for first in range(0, len(docs), settings.flows.batch_max):
        worker.run_batch(docs[first : first + settings.flows.batch_max], resumed=False)
    elapsed = time.perf_counter() - started
    assert len(worker.states) == len(documents), "every document must reach a state"
    return elapsed


def measure_latency(root: Path, documents: list[bytes], gap: float) -> list[float]:
    """Seconds from each file's write to its outbox result, files dropped ``gap`` seconds apart."""
    import hashlib

    from flows.batch import process_batch, worker_context
    from flows.worker import Worker

    settings = _fresh_settings(root, "latency")
    worker_context.cache_clear()
    worker = Worker(worker_context(), process=lambda d, r: process_batch(d, r), request_approvals=len)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    latencies = []
    for i, data in enumerate(documents):
        result = settings.outbox / f"{hashlib.sha256(data).hexdigest()}.json"
        started = time.perf_counter()
        (settings.inbox / f"drop-{i:03d}.pdf").write_bytes(data)
        while not result.exists():
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
        time.sleep(gap)
    stop.set()
    thread.join(30)
    return latencies


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="documents per variant")
    parser.add_argument("--latency-files", type=int, default=20, help="files dropped one by one")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved plain/flow rounds; medians reported")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between latency drops")
    parser.add_argument("--api-url", default=None, help="use this Prefect server instead of starting one")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="docval-pipeline-bench-"))
    os.environ.setdefault("DOCVAL_CONFIG", str(root / "docval.toml"))
    from docval.settings import load_settings
    from flows.env import apply_prefect_env, free_port

    url = args.api_url or f"http://127.0.0.1:{free_port()}/api"
    os.environ["DOCVAL_FLOWS__PREFECT_API_URL"] = url
    os.environ["DOCVAL_DATA_DIR"] = str(root / "server")
    server_settings = load_settings()
    if args.api_url is None:
        apply_prefect_env(server_settings, url)
    from flows.server import PrefectServer

    server = PrefectServer.ensure(server_settings, url)
    try:
        documents = _documents(root / "samples", args.docs + args.latency_files)
        batch, dropped = documents[: args.docs], documents[args.docs :]
        rounds = [
            (measure_throughput(root, batch, flow=False), measure_throughput(root, batch, flow=True))
            for _ in range(args.rounds)
        ]
        plain = statistics.median(r[0] for r in rounds)
        flow = statistics.median(r[1] for r in rounds)
        latencies = measure_latency(root, dropped, args.gap) if dropped else [0.0]
    finally:
        server.stop()
    figures = {
        "docs": args.docs,
        "plain_docs_per_second": args.docs / plain,
        "flow_docs_per_second": args.docs / flow,
        "overhead": (flow - plain) / plain,
        "latency_median_s": statistics.median(latencies),
        "latency_p95_s": sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)],
    }
    print(f"documents per variant        {args.docs} x {args.rounds} interleaved rounds (medians)")
    print(f"plain calls                  {figures['plain_docs_per_second']:.1f} docs/s ({plain:.1f} s)")
    print(f"Prefect flow                 {figures['flow_docs_per_second']:.1f} docs/s ({flow:.1f} s)")
    print(f"orchestration overhead       {figures['overhead']:+.1%}   (bar <= {BARS['overhead']:.0%})")
    print(f"flow throughput bar          >= {BARS['docs_per_second']:.0f} docs/s")
    median, p95 = figures["latency_median_s"], figures["latency_p95_s"]
    print(f"watcher latency drop->result median {median:.2f} s, p95 {p95:.2f} s ({len(latencies)} files)")
    return figures


if __name__ == "__main__":
    main()
