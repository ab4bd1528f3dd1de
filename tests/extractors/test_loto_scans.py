"""Leave-one-template-out cross-validation and scanned renders of generated invoices (issue 14).

LOTO: every fold holds out exactly one template, so no held-out document is scored by a model that saw
another document of its template, and the report says per field whether the truth is printed at all.
Scans: image-only PDFs with scanner noise that the appliance can only read through OCR.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pypdf

from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.layouts import generate
from extractors.matching import matches
from extractors.model.corpus import Sample
from extractors.model.train import folds_by_group, folds_per_template
from extractors.pdf import load_pdf
from extractors.rules import extract_rules
from extractors.scans import ScanNoise, draw_noise, scan, scanned

REPO = Path(__file__).resolve().parents[2]


def _sample(doc_id: str, group: str) -> Sample:
    return Sample(doc_id, "zugferd", group, [], {}, {}, {})


def test_loto_holds_out_exactly_one_template_per_fold() -> None:
    groups = ["seller a | word", "seller b | pdf-lib", "seller a | word", "gen-layout3", "seller c | fpdf"]
    samples = [_sample(f"doc{i}", group) for i, group in enumerate(groups)]
    folds = folds_per_template(samples)
    assert sorted(index for fold in folds for index in fold) == list(range(len(samples)))
    assert [sorted({samples[i].group for i in fold}) for fold in folds] == [[g] for g in sorted(set(groups))]
    # the hashed folds it replaces put several templates into one fold once there are more templates than folds
    assert any(len({samples[i].group for i in fold}) > 1 for fold in folds_by_group(samples, 2))


def test_training_script_loto_report_marks_printed_truth(tmp_path: Path) -> None:
    command = [sys.executable, str(REPO / "scripts" / "train_extractor.py"), "--generated", "6", "--no-corpora"]
    command += ["--scanned", "0", "--kyc", "0", "--kyc-scanned", "0"]  # text invoices only: each prints its truth
    report = tmp_path / "cv.json"
    subprocess.run(
        [*command, "--cv", "loto", "--out", str(tmp_path / "model"), "--report", str(report)],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    rows = json.loads(report.read_text(encoding="utf-8"))
    training = json.loads((tmp_path / "model" / "fields.json").read_text(encoding="utf-8"))["training"]
    assert training["cv"] == "loto" and training["folds"] == len({row["group"] for row in rows})
    for row in rows:
        labelled = {name for name, value in row["truth"].items() if value is not None}
        assert set(row["printed"]) == labelled
        # generated invoices print every value they are labelled with (amounts, dates, the number, the currency)
        assert all(row["printed"][name] for name in ("invoice_number", "issue_date", "grand_total", "currency"))


def test_scan_has_no_text_layer_and_repeats_from_its_seed() -> None:
    invoice = generate(11, 1, layouts=(7,), small=True)[0]
    noise = ScanNoise(dpi=150, angle=0.8, blur=0.5, speckle=0.002, jpeg_quality=50)
    first = scan(invoice.pdf, noise, 3)
    assert first == scan(invoice.pdf, noise, 3) != scan(invoice.pdf, noise, 4)
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert len(reader.pages) == len(pypdf.PdfReader(io.BytesIO(invoice.pdf)).pages)
    assert all(not page.extract_text().strip() for page in reader.pages)
    images = reader.pages[0].images
    assert len(images) == 1 and images[0].image.mode == "L"
    # an A4 page at 150 dpi: about 1240 pixels wide, tilted within the page
    assert abs(images[0].image.width - 1240) <= 2


def test_scan_noise_stays_within_a_scanners_range() -> None:
    import random

    rng = random.Random(5)
    for noise in (draw_noise(rng) for _ in range(200)):
        assert 150 <= noise.dpi <= 300 and abs(noise.angle) <= 1.5 and 35 <= noise.jpeg_quality <= 85
        assert 0 <= noise.blur <= 0.9 and 0 <= noise.speckle <= 0.003


def test_a_scanned_invoice_is_read_through_ocr(tmp_path: Path) -> None:
    (invoice, noise), *_ = scanned(generate(12, 1, layouts=(8,), small=True), 12)
    path = tmp_path / invoice.name
    path.write_bytes(invoice.pdf)
    document = load_pdf(path, ExtractSettings())
    assert [page.source for page in document.pages] == ["ocr"] * len(document.pages)
    fields = extract_rules(list(document.pages), DocKind.INVOICE)
    read = [name for name in ("grand_total", "currency") if name in fields]
    assert read and all(matches(name, str(fields[name].value), invoice.truth[name]) for name in read), noise
