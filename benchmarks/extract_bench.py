"""Extraction throughput: text pages/s through ``load_pdf`` vs bare pypdf, and OCR seconds/page + CER.

Baselines are measured in the same run: ``load_pdf`` against a bare in-process
``pypdf`` loop over the same files (the ratio is the price of the sandbox,
limits and checks), and OCR character error rate against the text layer of the
very page that was scanned. ``--rapidocr-python`` runs the same scanned pages
through RapidOCR in another interpreter (it is not a docval dependency) for the
engine comparison in the README.

    python benchmarks/extract_bench.py --docs 200 --ocr-pages 4
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdf
import pypdfium2
import pytesseract
from PIL import Image, ImageFilter

from docval.settings import ExtractSettings, ModelEndpoint, Settings
from extractors.classify import classify
from extractors.evaluate import load_dataset, run_eval
from extractors.extract import extract
from extractors.pdf import load_pdf
from extractors.router import Router
from extractors.rules import extract_rules, wants_layout
from extractors.samples import write_sample_inbox

_RAPIDOCR_SNIPPET = """
import json, sys, time
from rapidocr_onnxruntime import RapidOCR
engine = RapidOCR()
out = []
for path in sys.argv[1:]:
    started = time.perf_counter()
    result, _ = engine(path)
    lines = [item[1] for item in (result or [])]
    out.append({"text": "\\n".join(lines), "seconds": time.perf_counter() - started})
print(json.dumps(out))
"""


def text_pdfs(folder: Path, docs: int) -> list[Path]:
    samples = write_sample_inbox(folder, count=max(docs + 4, 13))
    return [folder / s.file for s in samples if s.kind is not None and not s.ocr][:docs]


def bench_text(paths: list[Path]) -> dict[str, float]:
    """Pages/s of bare pypdf in-process vs ``load_pdf`` (sandboxed child, limits, attachment lookup)."""
    limits = ExtractSettings(ocr_enabled=False)
    load_pdf(paths[0], limits)  # start the sandbox child outside the timing, as a long-lived worker would
    started = time.perf_counter()
    bare_pages = sum(len([p.extract_text() for p in pypdf.PdfReader(path).pages]) for path in paths)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    ours_pages = sum(len(load_pdf(path, limits).pages) for path in paths)
    ours = time.perf_counter() - started
    return {
        "pages": ours_pages,
        "pypdf_pages_per_s": bare_pages / bare,
        "load_pdf_pages_per_s": ours_pages / ours,
        "ratio": (ours_pages / ours) / (bare_pages / bare),
    }


def scanned_page(pdf: Path, dpi: int = 200) -> bytes:
    """An image-only PDF of ``pdf``'s first page as a mediocre office scanner makes it: slight skew, blur, noise."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    document.close()
    image = image.rotate(0.6, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    noise = Image.effect_noise(image.size, 18).point(lambda v: v - 128)
    image = Image.blend(image, Image.merge("L", [noise]), 0.08)
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def normalise(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance / reference length, whitespace normalised."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(ref), 1)


def word_recall(reference: str, hypothesis: str) -> float:
    """Share of the reference's words that OCR reproduced exactly, in any order.

    CER also charges reading-order differences (a two-column header read row by
    row); this counts what a field extractor can use: intact words and numbers.
    """
    remaining = Counter(hypothesis.split())
    found = 0
    words = reference.split()
    for word in words:
        if remaining[word] > 0:
            remaining[word] -= 1
            found += 1
    return found / max(len(words), 1)


def bench_ocr(sources: list[Path], workdir: Path, dpi: int, rapidocr_python: str | None) -> dict[str, float]:
    """Seconds/page and CER of ``load_pdf``'s OCR path (render + tesseract), optionally RapidOCR on the same pages."""
    limits = ExtractSettings(ocr_dpi=dpi)
    references, seconds, errors, recalls, images = [], [], [], [], []
    for number, source in enumerate(sources):
        reference = pypdf.PdfReader(source).pages[0].extract_text()
        scan = workdir / f"scan-{number}.pdf"
        scan.write_bytes(scanned_page(source))
        started = time.perf_counter()
        document = load_pdf(scan, limits)
        seconds.append(time.perf_counter() - started)
        assert document.pages[0].source == "ocr"
        references.append(reference)
        errors.append(cer(reference, document.text))
        recalls.append(word_recall(reference, document.text))
        png = workdir / f"scan-{number}.png"
        pypdfium2.PdfDocument(scan)[0].render(scale=dpi / 72, grayscale=True).to_pil().save(png)
        images.append(png)
    # Tesseract alone on the same rendered image: the OCR engine's share of the per-page time.
    started = time.perf_counter()
    for png in images:
        pytesseract.image_to_string(str(png), lang="eng", config="--oem 1 --psm 3")
    figures = {
        "pages": len(sources),
        "tesseract_s_per_page": sum(seconds) / len(seconds),
        "tesseract_engine_only_s_per_page": (time.perf_counter() - started) / len(images),
        "tesseract_cer": sum(errors) / len(errors),
        "tesseract_word_recall": sum(recalls) / len(recalls),
    }
    if rapidocr_python:
        run = subprocess.run(
            [rapidocr_python, "-c", _RAPIDOCR_SNIPPET, *map(str, images)], capture_output=True, text=True, check=True
        )
        results = json.loads(run.stdout.strip().splitlines()[-1])
        figures["rapidocr_s_per_page"] = sum(r["seconds"] for r in results) / len(results)
        pairs = list(zip(references, (r["text"] for r in results), strict=True))
        figures["rapidocr_cer"] = sum(cer(ref, hyp) for ref, hyp in pairs) / len(pairs)
        figures["rapidocr_word_recall"] = sum(word_recall(ref, hyp) for ref, hyp in pairs) / len(pairs)
    return figures


def bench_rules(paths: list[Path], repeat: int = 3) -> dict[str, float]:
    """Docs/s of classification + the rules tier on already-extracted text, against bare pypdf text extraction
    of the same documents in the same run (the rules tier should cost a fraction of getting the text)."""
    documents = [load_pdf(path, ExtractSettings(ocr_enabled=False)) for path in paths]
    router = Router.rules_only(Settings())
    started = time.perf_counter()
    for path in paths:
        [page.extract_text() for page in pypdf.PdfReader(path).pages]
    bare = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(repeat):
        for document in documents:
            extract(document, router)
    rules = (time.perf_counter() - started) / repeat
    return {
        "docs": len(paths),
        "pypdf_docs_per_s": len(paths) / bare,
        "rules_docs_per_s": len(paths) / rules,
        "ratio": bare / rules,
    }


def bench_layout(corpora: Path) -> dict[str, float]:
    """How often the rules tier asks for pypdf's layout view on the real corpora, and what it costs against the
    plain ``load_pdf`` of the same documents in the same run (wall seconds per document; CPU is in the child)."""
    paths = [
        document.path
        for folder in ("zugferd", "invoices-invoice2data")
        for document in load_dataset(corpora / folder)[1]
    ]
    limits = ExtractSettings(ocr_enabled=False)
    plain = layout = 0.0
    fired = 0
    for path in paths:
        started = time.perf_counter()
        document = load_pdf(path, limits)
        plain += time.perf_counter() - started
        pages = list(document.pages)
        kind = classify(page.text for page in pages).kind
        if wants_layout(extract_rules(pages, kind), kind):
            fired += 1
            started = time.perf_counter()
            document.layout_pages()
            layout += time.perf_counter() - started
    return {
        "docs": len(paths),
        "fired": fired,
        "load_pdf_s_per_doc": plain / len(paths),
        "layout_s_per_fired_doc": layout / fired if fired else 0.0,
        "cost_ratio": layout / plain if plain else 0.0,
    }


def bench_accuracy(corpora: Path, local_url: str | None, local_model: str) -> dict[str, float]:
    """Overall field accuracy rules-only vs routed on the shared invoice corpora, e-invoice XML tier off.

    Routed needs a local model endpoint (``--local-url``); without one only rules-only is measured."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir))
        if local_url:
            endpoint = ModelEndpoint(enabled=True, base_url=local_url, model=local_model)
            # the endpoint tier alone beside the rules (the trained tier is measured by model_bench.py)
            router = settings.extract.router.model_copy(update={"local": endpoint, "trained_model": False})
            routed = settings.model_copy(update={"extract": settings.extract.model_copy(update={"router": router})})
        for name in ("zugferd", "invoices-invoice2data"):
            rules = run_eval(corpora / name, settings, routed=False, einvoice=False)
            figures[f"{rules.dataset}_rules"] = float(rules.overall["accuracy"])
            figures[f"{rules.dataset}_rules_printed"] = float(rules.printed_overall["accuracy"])
            figures[f"{rules.dataset}_left_out"] = sum(rules.excluded.values())
            if rules.line_items.get("documents"):
                figures[f"{rules.dataset}_line_amount"] = float(rules.line_items["amount_accuracy"])
                figures[f"{rules.dataset}_line_rows"] = float(rules.line_items["rows_accuracy"])
            if local_url:
                report = run_eval(corpora / name, routed, routed=True, einvoice=False)
                figures[f"{report.dataset}_routed"] = float(report.overall["accuracy"])
                figures[f"{report.dataset}_model_calls"] = report.model_calls
    return figures


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200, help="text PDFs for the pages/s figures")
    parser.add_argument("--ocr-pages", type=int, default=4, help="scanned pages for OCR s/page and CER (0: skip)")
    parser.add_argument("--ocr-dpi", type=int, default=300, help="rendering resolution for OCR")
    parser.add_argument("--rapidocr-python", help="interpreter with rapidocr-onnxruntime, for the engine comparison")
    parser.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data",
                        help="shared corpora folder for rules-only vs routed accuracy ('' skips)")  # fmt: skip
    parser.add_argument("--local-url", help="OpenAI-compatible endpoint of a local model for the routed figures")
    parser.add_argument("--local-model", default="local", help="model id sent to --local-url")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = text_pdfs(Path(tmp) / "docs", args.docs)
        results["text"] = bench_text(paths)
        text = results["text"]
        print(
            f"text extraction, {text['pages']:.0f} pages: pypdf {text['pypdf_pages_per_s']:.1f} pages/s, "
            f"load_pdf {text['load_pdf_pages_per_s']:.1f} pages/s (ratio {text['ratio']:.2f} of bare pypdf)"
        )
        results["rules"] = rules = bench_rules(paths)
        print(
            f"rules tier, {rules['docs']:.0f} docs: {rules['rules_docs_per_s']:.1f} docs/s "
            f"vs bare pypdf text {rules['pypdf_docs_per_s']:.1f} docs/s (ratio {rules['ratio']:.1f}x)"
        )
        if args.corpora and (args.corpora / "zugferd").is_dir():
            results["accuracy"] = accuracy = bench_accuracy(args.corpora, args.local_url, args.local_model)
            for dataset in ("zugferd", "invoice2data"):
                routed = accuracy.get(f"{dataset}_routed")
                calls = accuracy.get(f"{dataset}_model_calls", 0)
                shown = "n/a (no --local-url)" if routed is None else f"{routed:.1%} ({calls:.0f} model calls)"
                print(
                    f"accuracy {dataset}: rules-only (a) {accuracy[f'{dataset}_rules']:.1%} "
                    f"(b) {accuracy[f'{dataset}_rules_printed']:.1%} "
                    f"({accuracy[f'{dataset}_left_out']:.0f} values printed nowhere left out of (b)), routed {shown}"
                )
                if f"{dataset}_line_amount" in accuracy:
                    print(
                        f"line items {dataset}: amount {accuracy[f'{dataset}_line_amount']:.1%}, "
                        f"whole rows {accuracy[f'{dataset}_line_rows']:.1%} of the XML's rows"
                    )
            results["layout"] = lay = bench_layout(args.corpora)
            print(
                f"layout fallback on the corpora: asked for on {lay['fired']:.0f} of {lay['docs']:.0f} documents, "
                f"{lay['layout_s_per_fired_doc'] * 1000:.0f} ms each vs load_pdf "
                f"{lay['load_pdf_s_per_doc'] * 1000:.0f} ms per document (total cost ratio {lay['cost_ratio']:.2f})"
            )
        if args.ocr_pages:
            results["ocr"] = ocr = bench_ocr(paths[: args.ocr_pages], Path(tmp), args.ocr_dpi, args.rapidocr_python)
            print(
                f"OCR @{args.ocr_dpi} dpi, {ocr['pages']:.0f} scanned pages: "
                f"tesseract {ocr['tesseract_s_per_page']:.2f} s/page via load_pdf "
                f"({ocr['tesseract_engine_only_s_per_page']:.2f} engine only), "
                f"CER {ocr['tesseract_cer']:.1%}, word recall {ocr['tesseract_word_recall']:.1%}"
            )
            if "rapidocr_s_per_page" in ocr:
                print(
                    f"OCR comparison: rapidocr-onnxruntime {ocr['rapidocr_s_per_page']:.2f} s/page, "
                    f"CER {ocr['rapidocr_cer']:.1%}, word recall {ocr['rapidocr_word_recall']:.1%} "
                    f"(time ratio {ocr['rapidocr_s_per_page'] / ocr['tesseract_engine_only_s_per_page']:.2f} "
                    "of tesseract engine-only)"
                )
    return results


if __name__ == "__main__":
    main()
