"""Where real PDFs spend their time: seconds per pipeline stage, shared e-invoice PDFs against generated samples.

Both sets run through every stage as plain calls (the same functions the
Prefect flow runs as tasks: sandboxed ingest, extraction, validation, PII
masking, policy, outbox + ledger) in fresh data directories, rules only, in
one run; the samples are the same-run baseline (`docval samples` files, which
today reach ~22 docs/s end to end against ~5 on the shared ZUGFeRD PDFs).
Inside extraction, the layout view (a second sandboxed pypdf pass in layout
mode, asked for when the plain reading left head fields weak) is timed apart.

    python benchmarks/stage_bench.py [--samples 58]
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


def measure(root: Path, name: str, files: list[Path]) -> dict[str, float]:
    """Seconds per stage (and for the layout view inside extraction) to process ``files`` once."""
    from docval.settings import load_settings
    from extractors.pdf import PdfDocument
    from flows.appliance import prepare
    from flows.batch import build_context
    from flows.pipeline import STAGES, load_batch
    from flows.worker import Worker

    os.environ["DOCVAL_DATA_DIR"] = str(root / name)
    settings = load_settings()
    prepare(settings)
    ctx = build_context(settings)
    seconds: dict[str, float] = {stage.__name__: 0.0 for stage in STAGES}
    seconds["layout view"] = 0.0
    original_layout = PdfDocument.layout_pages

    def timed_layout(self: PdfDocument) -> object:
        started = time.perf_counter()
        try:
            return original_layout(self)
        finally:
            seconds["layout view"] += time.perf_counter() - started

    def process(docs: list[str], resumed: bool) -> dict[str, str]:
        batch = load_batch(ctx, docs, resumed=resumed)
        for stage in STAGES:
            started = time.perf_counter()
            stage(ctx, batch)
            seconds[stage.__name__] += time.perf_counter() - started
        return {work.doc: work.state.value for work in batch}

    worker = Worker(ctx, process=process, request_approvals=len)
    for index, path in enumerate(files):
        shutil.copy(path, settings.inbox / f"{name}-{index:04d}.pdf")
    PdfDocument.layout_pages = timed_layout  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        docs = worker.claim(sorted(settings.inbox.glob("*.pdf")))
        for first in range(0, len(docs), settings.flows.batch_max):
            worker.run_batch(docs[first : first + settings.flows.batch_max], resumed=False)
        seconds["total"] = time.perf_counter() - started
    finally:
        PdfDocument.layout_pages = original_layout  # type: ignore[method-assign]
    seconds["docs"] = len(files)
    return seconds


def _row(label: str, real: dict[str, float], samples: dict[str, float], key: str) -> str:
    per = [1000 * figures[key] / figures["docs"] for figures in (real, samples)]
    ratio = per[0] / per[1] if per[1] else float("inf")
    return f"{label:<14} {per[0]:8.1f} ms/doc {per[1]:8.1f} ms/doc   {ratio:5.1f}x"


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
    results = {"real": measure(root, "real", real_files), "samples": measure(root, "samples", sample_files)}
    real, samples = results["real"], results["samples"]
    counts = f"({int(real['docs'])} / {int(samples['docs'])} docs)"
    print(f"{'stage':<14} {'shared ZUGFeRD':>15} {'samples':>15}   ratio  {counts}")
    stages: list[str] = [key for key in real if key not in ("docs", "total", "layout view")]
    for key in stages:
        print(_row(key, real, samples, key))
    print(_row("  layout view", real, samples, "layout view") + "   (inside extract)")
    print(_row("total", real, samples, "total"))

    def rate(figures: dict[str, float]) -> float:
        return figures["docs"] / figures["total"]

    print(f"throughput     {rate(real):8.1f} docs/s  {rate(samples):8.1f} docs/s (one process, plain calls)")
    return results


if __name__ == "__main__":
    main()
