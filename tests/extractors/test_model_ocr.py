"""Confidence on pages read by OCR: their own calibration curves, never a text curve's promise (issue 14).

A raw score means less on a noisy scan than on a text layer, so an answer from
a document with an OCR page is calibrated on ``ocr:`` curves fitted on held-out
scanned renders; where one is missing it is capped under the auto-accept level.
Those curves are fitted on a few training layouts, so a scan's probability is
read on as such probabilities held on layouts the curves never saw (``ocr:unseen``).
"""

from __future__ import annotations

from collections import Counter

import pytest

from docval.domain import ExtractedField
from docval.settings import ExtractSettings
from extractors.layouts import generate
from extractors.model import load_model, read_fields
from extractors.model.calibration import OCR, OCR_FALLBACK_CAP, UNSEEN, Calibration, fit_calibration
from extractors.model.corpus import Sample, rules_fields
from extractors.model.scorer import FieldModel, Prediction
from extractors.model.tier import WEAK_WORD, calibrated, route
from extractors.model.train import HeldOut, _unseen_points, calibrate
from extractors.ocr import word_spans
from extractors.pdf import PageText, load_pdf
from extractors.scans import scanned

AUTO_ACCEPT = 0.98  # the default policy's low-confidence threshold (flows/policy.py)


def test_an_ocr_answer_goes_through_its_own_curve_or_stays_under_the_cap() -> None:
    text = fit_calibration({"model:grand_total": [(0.9, True, 1.0)] * 40})  # always right on text layers
    ocr = fit_calibration({"ocr:model:grand_total": [(0.9, i < 20, 1.0) for i in range(40)]})  # half on scans
    both = Calibration({**text.curves, **ocr.curves})
    assert both.probability("model:grand_total", 0.9) == pytest.approx(1.0)
    assert both.scoped(True).probability("model:grand_total", 0.9) == pytest.approx(0.5)
    assert both.scoped(False).probability("model:grand_total", 0.9) == pytest.approx(1.0)
    # no OCR curve: the text curve, capped; no curve at all: the raw score, capped
    assert text.scoped(True).probability("model:grand_total", 0.9) == OCR_FALLBACK_CAP < AUTO_ACCEPT
    assert text.scoped(True).probability("rules:iban", 0.97) == OCR_FALLBACK_CAP
    assert text.scoped(True).ceiling("model:grand_total") == OCR_FALLBACK_CAP
    assert text.probability("rules:iban", 0.97) == 0.97
    assert both.scoped(True).has("model:grand_total") and not text.scoped(True).has("model:grand_total")
    assert both.scoped(True).version == both.version  # the scope is how curves are read, not which


def _sample(index: int, ocr: bool, layout: int = 0) -> Sample:
    page = PageText(number=1, text="Invoice A-1", source="ocr" if ocr else "text")
    truth: dict[str, str | None] = {"invoice_number": "A-1"}
    return Sample(f"doc{index}", "scanned" if ocr else "generated", f"gen-layout{layout}", [page], truth, {}, truth)


def test_scans_are_fitted_apart_from_text_pdfs() -> None:
    # the held-out model is always right on text PDFs and right on every other scan, at the same raw score
    samples = [_sample(i, ocr=False) for i in range(40)] + [_sample(40 + i, ocr=True) for i in range(40)]
    held = HeldOut(
        predictions={
            s.doc_id: {
                "invoice_number": Prediction("A-1" if i % 2 == 0 or s.source != "scanned" else "B-2", 0.9, 1, (8, 11))
            }
            for i, s in enumerate(samples)
        }
    )
    calibration = calibrate(samples, held)
    assert calibration.probability("model:invoice_number", 0.9) == pytest.approx(1.0)
    assert calibration.probability(f"{OCR}model:invoice_number", 0.9) == pytest.approx(0.5)
    assert calibration.scoped(True).probability("model_only:invoice_number", 0.9) == pytest.approx(0.5)
    assert {held.routed[s.doc_id]["invoice_number"].confidence for s in samples[:40]} == {1.0}
    assert {held.routed[s.doc_id]["invoice_number"].confidence for s in samples[40:]} == {0.5}


def test_a_value_tesseract_doubted_is_never_auto_accepted_whatever_its_curve() -> None:
    # both readers agree and the curve promises 1.0; only the OCR's doubt about a word of the value tells a
    # misread (a speckle read as a quote mark, a pound sign as a dollar) from a clean reading
    sure = Calibration({f"{OCR}model_only:grand_total": ([0.5, 0.9], [0.5, 1.0])}).scoped(True)
    guess = {"grand_total": Prediction("12.00", 0.9, 1, (6, 11))}

    def read(confidence: float) -> float:
        page = PageText(number=1, text="Total 12.00", source="ocr", words=((0, 5, 95.0), (6, 11, confidence)))
        return calibrated(route({}, guess, sure), sure, [page])["grand_total"].confidence

    assert read(95.0) == pytest.approx(1.0)
    assert read(WEAK_WORD) == pytest.approx(1.0)
    assert read(WEAK_WORD - 1) == OCR_FALLBACK_CAP < AUTO_ACCEPT


def test_a_scan_is_read_on_as_its_curves_held_on_layouts_they_were_not_fitted_on() -> None:
    # the key's curve promises 1.0 at this score; on layouts it was not fitted on, such answers were right 95 %
    curves = {
        f"{OCR}model_only:grand_total": ([0.5, 0.9], [0.5, 1.0]),
        OCR + UNSEEN: ([0.5, 0.9, 1.0], [0.4, 0.8, 0.95]),
    }
    guess = {"grand_total": Prediction("12.00", 0.9, 1, (6, 11))}
    scan = Calibration(curves).scoped(True)

    def read(confidence: float) -> float:
        page = PageText(number=1, text="Total 12.00", source="ocr", words=((0, 5, 95.0), (6, 11, confidence)))
        return calibrated(route({}, guess, scan), scan, [page])["grand_total"].confidence

    assert read(95.0) == pytest.approx(0.95)
    assert read(WEAK_WORD - 1) == pytest.approx(0.8)  # capped at 0.9 first, then read on like any 0.9
    assert Calibration(curves).carried(1.0) == 1.0  # text layers have no such curve


def test_each_layout_s_scans_are_judged_by_curves_fitted_without_that_layout() -> None:
    # the held-out model is right on every scan of layout 0, and on a quarter of layout 1's, at the same score
    samples = [_sample(i, ocr=True, layout=0) for i in range(40)] + [
        _sample(40 + i, ocr=True, layout=1) for i in range(40)
    ]
    held = HeldOut(
        predictions={
            s.doc_id: {"invoice_number": Prediction("A-1" if i < 40 or i % 4 == 0 else "B-2", 0.9, 1, (8, 11))}
            for i, s in enumerate(samples)
        }
    )
    points = Counter(_unseen_points(samples, held))
    # layout 0 through layout 1's curve (0.25), layout 1 through layout 0's (1.0): neither curve carried
    assert points == {(0.25, True, 1.0): 40, (1.0, True, 1.0): 10, (1.0, False, 1.0): 30}
    calibration = calibrate(samples, held)
    assert calibration.scoped(True).probability("model_only:invoice_number", 0.9) == pytest.approx(0.625)
    assert calibration.scoped(True).carried(0.25) == calibration.scoped(True).carried(1.0) == pytest.approx(0.625)


WORDS = [("Invoice", 96.5), ("A-1", 91.0), ("Total", 95.0), ("12.00", 42.0), ("EUR", 90.0), ("absent", 10.0)]


def test_tesseract_words_are_located_in_its_text() -> None:
    text = "Invoice  A-1\n\nTotal 12.00 EUR\n"
    table = "\n".join(
        [
            "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
            "4\t1\t1\t1\t1\t0\t0\t0\t9\t9\t-1\t",
            *(f"5\t1\t1\t1\t1\t{i}\t0\t0\t9\t9\t{c}\t{w}" for i, (w, c) in enumerate(WORDS)),
        ]
    )
    assert word_spans(text, table) == ((0, 7, 96.5), (9, 12, 91.0), (14, 19, 95.0), (20, 25, 42.0), (26, 29, 90.0))


Reading = tuple[list[PageText], dict[str, ExtractedField]]  # a document's pages and the rules' answers


@pytest.fixture(scope="module")
def text_and_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reading, Reading]:
    """One generated invoice of an unseen layout as a text PDF and as a noisy scan read by tesseract."""
    folder = tmp_path_factory.mktemp("ocr")
    invoice = generate(31, 1, layouts=(7,), small=True)[0]
    (scan, _), *_ = scanned([invoice], 31)
    readings = []
    for name, pdf in (("text.pdf", invoice.pdf), ("scan.pdf", scan.pdf)):
        (folder / name).write_bytes(pdf)
        document = load_pdf(folder / name, ExtractSettings())
        readings.append((list(document.pages), rules_fields(document)))
    assert {page.source for page in readings[1][0]} == {"ocr"}
    return readings[0], readings[1]


def test_an_ocr_page_carries_its_words_and_a_text_layer_none(text_and_scan: tuple[Reading, Reading]) -> None:
    (text_pages, _), (scan_pages, _) = text_and_scan
    assert all(page.words == () for page in text_pages)
    words = [(page.text[start:end], confidence) for page in scan_pages for start, end, confidence in page.words]
    assert len(words) > 20 and all(word.strip() and 0 <= confidence <= 100 for word, confidence in words)


def test_a_scan_is_never_accepted_on_the_text_curves(text_and_scan: tuple[Reading, Reading]) -> None:
    text, scan = text_and_scan
    shipped = load_model()
    text_only = Calibration({k: v for k, v in shipped.calibration.curves.items() if not k.startswith(OCR)})
    model = FieldModel(shipped.forests, text_only, shipped.version)
    assert any(field.confidence >= AUTO_ACCEPT for field in read_fields(model, *text).values())
    on_scan = read_fields(model, *scan)
    assert on_scan and all(field.confidence <= OCR_FALLBACK_CAP for field in on_scan.values())
