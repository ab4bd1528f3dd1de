"""The extraction benchmark runs at a small size and reports sane figures."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "extract_bench.py"


def test_small_benchmark_run(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCH))  # defines main() without running it (__name__ is not "__main__")
    results = module["main"](["--docs", "5", "--ocr-pages", "1", "--ocr-dpi", "150"])
    text, ocr = results["text"], results["ocr"]
    assert text["pages"] == 5 and text["pypdf_pages_per_s"] > 0 and text["load_pdf_pages_per_s"] > 0
    assert 0 < text["ratio"] < 5
    assert ocr["tesseract_s_per_page"] > 0
    assert ocr["tesseract_word_recall"] > 0.6  # a clean-ish 150 dpi scan of a sample invoice is mostly readable
    assert "pages/s" in capsys.readouterr().out
