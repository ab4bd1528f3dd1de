"""Where real PDFs spend their time: wall and CPU per pipeline stage, shared e-invoice PDFs against generated samples.

Both sets run through every stage as plain calls (the same functions the
Prefect flow runs as tasks: sandboxed ingest, extraction, validation, PII
masking, policy, outbox + ledger) in fresh data directories, in one run, once
with the trained model tier and once rules only; the samples are the same-run
baseline (`docval samples` files). CPU is this process's plus its sandbox
children's (ingest parses two documents at once in two children, so its CPU
can exceed its wall time); the layout view is read inside ingest, from the
same parsed file. In brackets, the worker process's own CPU: its serial part.
The 2-core ceiling is the lower of 2 cores / CPU per document and 1 core /
the worker's CPU per document (the worker is one process). Both sandbox
children are started and warmed on two documents first (a worker's children
live for its whole life), outside the figures.

    python benchmarks/stage_bench.py [--samples 58] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _real_pdfs() -> list[Path]:
    return sorted((SHARED / "zugferd" / "pdfs").rglob("*.pdf"))


def _sample_pdfs(folder: Path, count: int) -> list[Path]:
    from extractors.samples import write_sample_inbox

    samples = [s for s in write_sample_inbox(folder, count=24) if s.kind is not None and not s.ocr]
    paths = []
    for index in range(count):
        source = folder / samples[index % len(samples)].file
        target = folder / f"copy-{index:04d}.pdf"
        target.write_bytes(source.read_bytes() + f"\n% copy {index}\n".encode())
        paths.append(target)
    return paths


def _children_cpu() -> float:
    """CPU seconds of this process's live children (the sandbox's parser processes)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children():
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _cpu() -> float:
    return time.process_time() + _children_cpu()


def _warm(ctx: object, files: list[Path]) -> None:
    """Start both sandbox children and let them load what they keep (parser, rules, the model), as a running
    worker's children have: a one-off cost per child, not per document. Nothing is claimed or ledgered."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(ctx.kit.ingest, files))  # type: ignore[attr-defined]


def measure(root: Path, name: str, files: list[Path], *, trained: bool) -> dict[str, float]:
    """Wall and CPU seconds per stage (keys ``STAGE`` and ``STAGE cpu``) to process ``files`` once."""
    from docval.settings import load_settings
    from extractors.router import Router
    from flows.appliance import prepare
    from flows.batch import build_context
    from flows.pipeline import STAGES, load_batch
    from flows.worker import Worker

    os.environ["DOCVAL_DATA_DIR"] = str(root / name)
    settings = load_settings()
    prepare(settings)
    ctx = build_context(settings)
    if not trained:
        ctx.kit.router = Router.rules_only(settings)
    seconds: dict[str, float] = {}

    def process(docs: list[str], resumed: bool) -> dict[str, str]:
        batch = load_batch(ctx, docs, resumed=resumed)
        with ctx.kit.remembering_analyses():  # as the flow runs a part: ingest analyses ahead for mask and finish
            for stage in STAGES:
                wall, cpu, own = time.perf_counter(), _cpu(), time.process_time()
                stage(ctx, batch)
                for key, spent in (
                    ("", time.perf_counter() - wall),
                    (" cpu", _cpu() - cpu),
                    (" own", time.process_time() - own),
                ):
                    seconds[stage.__name__ + key] = seconds.get(stage.__name__ + key, 0.0) + spent
        return {work.doc: work.state.value for work in batch}

    worker = Worker(ctx, process=process, request_approvals=len)
    _warm(ctx, files[:2])
    for index, path in enumerate(files):
        shutil.copy(path, settings.inbox / f"{name}-{index:04d}.pdf")
    started, cpu, own = time.perf_counter(), _cpu(), time.process_time()
    docs = worker.claim(sorted(settings.inbox.glob("*.pdf")))
    for first in range(0, len(docs), settings.flows.batch_max):
        worker.run_batch(docs[first : first + settings.flows.batch_max], resumed=False)
    seconds["total"], seconds["total cpu"] = time.perf_counter() - started, _cpu() - cpu
    seconds["total own"] = time.process_time() - own
    seconds["docs"] = len(files)
    return seconds


def per_doc_ms(figures: dict[str, float], key: str) -> float:
    """Total CPU ms per document: ``cpu`` all processes, ``own`` the worker process alone."""
    return 1000 * figures[f"total {key}"] / figures["docs"]


def _row(label: str, real: dict[str, float], samples: dict[str, float], key: str) -> str:
    def per_doc(figures: dict[str, float], name: str) -> float:
        return 1000 * figures[name] / figures["docs"]

    cells = [
        f"{per_doc(figures, key):7.1f} / {per_doc(figures, key + ' cpu'):6.1f} ({per_doc(figures, key + ' own'):5.1f})"
        for figures in (real, samples)
    ]
    ratio = real[key] / real["docs"] / (samples[key] / samples["docs"]) if samples[key] else float("inf")
    return f"{label:<10} {cells[0]:>25} {cells[1]:>25}   {ratio:5.1f}x"


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=0, help="sample documents (0: as many as real PDFs)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N real PDFs (0: all)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="docval-stage-bench-"))
    os.environ.setdefault("DOCVAL_CONFIG", str(root / "docval.toml"))
    real_files = _real_pdfs()[: args.limit or None]
    (root / "samples").mkdir()
    sample_files = _sample_pdfs(root / "samples", args.samples or len(real_files))
    results = {}
    for tier in ("model tier", "rules only"):
        trained = tier == "model tier"
        key = tier.split()[0]
        results[f"real {key}"] = measure(root, f"real-{key}", real_files, trained=trained)
        results[f"samples {key}"] = measure(root, f"samples-{key}", sample_files, trained=trained)
        real, samples = results[f"real {key}"], results[f"samples {key}"]
        print(
            f"{tier}: ms/doc wall / CPU (of it the worker process's) ({int(real['docs'])} shared ZUGFeRD PDFs, "
            f"{int(samples['docs'])} samples)"
        )
        print(f"{'stage':<10} {'shared ZUGFeRD':>25} {'samples':>25}   ratio (wall)")
        for stage in [name for name in real if name not in ("docs", "total") and " " not in name]:
            print(_row(stage, real, samples, stage))
        print(_row("total", real, samples, "total"))
        rates = [figures["docs"] / figures["total"] for figures in (real, samples)]
        print(f"throughput {rates[0]:19.1f} docs/s {rates[1]:19.1f} docs/s (one process, plain calls)")
        ceilings = [
            min(2000 / per_doc_ms(figures, "cpu"), 1000 / per_doc_ms(figures, "own")) for figures in (real, samples)
        ]
        print(f"2-core ceiling {ceilings[0]:15.1f} docs/s {ceilings[1]:19.1f} docs/s (CPU: both cores, worker one)\n")
    return results


if __name__ == "__main__":
    main()
