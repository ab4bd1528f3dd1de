"""benchmarks/html_bench.py at a small size: the invoices it prints carry their truth, defects included."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

from docval.settings import ExtractSettings
from extractors.pdf import load_pdf

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "html_bench.py"


@pytest.fixture(scope="module")
def bench() -> dict:
    sys.path.insert(0, str(BENCH.parent))  # the bench imports model_bench beside it
    try:
        return runpy.run_path(str(BENCH))
    finally:
        sys.path.remove(str(BENCH.parent))


def test_every_template_prints_its_invoice_with_the_values_of_its_truth(bench: dict, tmp_path: Path) -> None:
    invoices = bench["invoices"](7, 8, 0.5, tmp_path)
    assert len({invoice.template_key for invoice in invoices}) >= 3
    assert any(invoice.defect for invoice in invoices) and any(not invoice.defect for invoice in invoices)
    for invoice in invoices:
        path = tmp_path / f"read-{invoice.name}"
        path.write_bytes(invoice.pdf)
        text = load_pdf(path, ExtractSettings(ocr_enabled=False)).text
        assert invoice.pdf.startswith(b"%PDF") and invoice.truth["invoice_number"] in text
        assert invoice.truth["buyer_name"] in text.replace("\n", " ")
        digits = re.sub(r"(?<=\d)[ .,](?=\d)", "", text)  # '1 116,77 EUR' and '$1,116.77' alike: '111677'
        assert invoice.truth["grand_total"].lstrip("-").replace(".", "") in digits
