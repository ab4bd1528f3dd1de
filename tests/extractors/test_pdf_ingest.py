"""Ingest under hostile input: every corpus file yields text or a typed error, in time, without leaking content."""

from __future__ import annotations

import gc
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from benchmarks import hostile_pdfs as hostile
from docval.settings import ExtractSettings
from extractors.layouts import generate
from extractors.pdf import IngestError, PdfDocument, load_pdf
from extractors.samples import write_sample_inbox
from extractors.sandbox import _YOUNG_OBJECTS, Sandbox, SandboxCrashed, SandboxMemory, SandboxTimeout

# Fast limits for the corpus sweep; OCR at 100 dpi still exercises PDFium rendering of every hostile page.
LIMITS = ExtractSettings(parse_timeout_seconds=20, page_timeout_seconds=5, ocr_dpi=100, ocr_page_timeout_seconds=20)
QUARANTINE_CODES = {
    "ENCRYPTED",
    "MALFORMED",
    "NOT_PDF",
    "EMPTY",
    "TOO_LARGE",
    "TOO_MANY_PAGES",
    "TIMEOUT",
    "MEMORY_LIMIT",
}
DETAIL = re.compile(r"^[A-Za-z0-9 ,.%()/_:-]{0,120}$")  # limits, counts, type names: never document text


def _outcome(path: Path, limits: ExtractSettings = LIMITS) -> PdfDocument | IngestError:
    try:
        return load_pdf(path, limits)
    except IngestError as exc:
        return exc


def _corpus(shared_data: Path, folder: str) -> list[tuple[Path, dict]]:
    index = json.loads((shared_data / folder / "index.json").read_text())
    return [(shared_data / folder / entry["file"], entry) for entry in index]


@pytest.mark.parametrize("folder", ["pdf-malformed", "pdf-varied"])
def test_every_corpus_file_yields_text_or_a_typed_error(shared_data: Path, folder: str) -> None:
    files = _corpus(shared_data, folder)
    assert len(files) >= 40
    codes: dict[str, int] = {}
    for path, entry in files:
        started = time.monotonic()
        outcome = _outcome(path)
        elapsed = time.monotonic() - started
        assert elapsed < LIMITS.parse_timeout_seconds + LIMITS.ocr_page_timeout_seconds + 10, path.name
        if isinstance(outcome, IngestError):
            assert DETAIL.match(outcome.detail), (path.name, outcome.detail)
            codes[outcome.code] = codes.get(outcome.code, 0) + 1
        else:
            assert outcome.pages and all(page.number == i + 1 for i, page in enumerate(outcome.pages))
            if entry.get("category") == "image_only_scan":  # no text layer: every page must come from OCR
                assert {page.source for page in outcome.pages} == {"ocr"}, path.name
            codes["ok"] = codes.get("ok", 0) + 1
    assert set(codes) <= {
        "ok",
        "ENCRYPTED",
        "MALFORMED",
        "NOT_PDF",
        "EMPTY",
        "TOO_LARGE",
        "TIMEOUT",
        "MEMORY_LIMIT",
        "TOO_MANY_PAGES",
    }
    assert codes.get("ok", 0) >= len(files) // 3  # most readable files must actually be read


def test_encrypted_samples_need_their_password(shared_data: Path) -> None:
    index = json.loads((shared_data / "pdf-malformed" / "index.json").read_text())
    for entry in index:
        if not entry["group"].startswith("encrypted"):
            continue
        outcome = _outcome(shared_data / "pdf-malformed" / entry["file"])
        opens_without_password = (
            entry["pypdf_7_1_1"].get("decrypt", {}).get("", "2") != "0"
        )  # pypdf's own verdict, recorded
        if opens_without_password:
            assert isinstance(outcome, PdfDocument), entry["file"]
        else:
            assert isinstance(outcome, IngestError) and outcome.code == "ENCRYPTED", entry["file"]


def test_scanned_sample_invoice_reads_back_by_ocr(tmp_path: Path) -> None:
    docs = write_sample_inbox(tmp_path, count=9)
    scanned = next(d for d in docs if d.ocr)
    document = load_pdf(tmp_path / scanned.file, ExtractSettings())
    assert [page.source for page in document.pages] == ["ocr"]
    text = document.text
    assert scanned.fields["invoice_number"] in text
    assert scanned.fields["seller_vat_id"] in text


@pytest.mark.parametrize(
    ("builder", "codes"),
    [
        (hostile.decompression_bomb, {"ok", "TOO_LARGE", "MEMORY_LIMIT", "MALFORMED"}),
        (hostile.many_pages, {"TOO_MANY_PAGES"}),
        (lambda: hostile.many_pages(declared=3), {"TOO_MANY_PAGES"}),
        (hostile.deeply_nested, {"ok", "MALFORMED"}),
    ],
    ids=["decompression-bomb", "10000-pages", "10000-pages-lying-count", "deeply-nested"],
)
def test_generated_hostile_pdfs(tmp_path: Path, builder, codes: set[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hostile.pdf"
    path.write_bytes(builder())
    started = time.monotonic()
    outcome = _outcome(path)
    assert time.monotonic() - started < 30
    assert (outcome.code if isinstance(outcome, IngestError) else "ok") in codes, outcome


def test_javascript_and_embedded_files_yield_text_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "js.pdf"
    path.write_bytes(hostile.with_javascript_and_attachment("Invoice number: INV-77 visible"))
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    document = load_pdf(path, LIMITS)
    assert "INV-77" in document.text
    assert document.einvoice_xml is None  # an .exe attachment is never returned
    assert sorted(os.listdir(tmp_path)) == before  # nothing written out


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "EMPTY"), (b"PK\x03\x04 a zip file", "NOT_PDF"), (b"%PDF-1.7\n" + b"x" * 64, "MALFORMED")],
)
def test_trivially_bad_files(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(IngestError) as caught:
        load_pdf(path, LIMITS)
    assert caught.value.code == code


def test_size_page_and_time_limits(tmp_path: Path, shared_data: Path) -> None:
    sample = tmp_path / "big.pdf"
    sample.write_bytes(hostile.many_pages(50))
    assert _outcome(sample, ExtractSettings(max_file_bytes=1000)).code == "TOO_LARGE"  # type: ignore[union-attr]
    assert _outcome(sample, ExtractSettings(max_pages=10)).code == "TOO_MANY_PAGES"  # type: ignore[union-attr]
    slow = shared_data / "pdf-varied" / "issue840.pdf"  # ~1.5 s of text extraction
    outcome = _outcome(slow, ExtractSettings(parse_timeout_seconds=0.05))
    assert isinstance(outcome, IngestError) and outcome.code == "TIMEOUT"
    assert isinstance(_outcome(slow), PdfDocument)  # the killed child was replaced
    per_page = _outcome(slow, ExtractSettings(page_timeout_seconds=0.01))
    assert isinstance(per_page, IngestError) and per_page.code == "TIMEOUT" and "page " in per_page.detail


def test_a_page_deadline_passing_inside_a_readers_fallback_still_stops_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the alarm lands anywhere in a page's reading; landing in the content-stream reader, whose `except Exception`
    # hands an unsure stream back to pypdf, it was swallowed and the page read on past its limit (a flaky CI run)
    import io

    import pypdf

    from extractors import content_tokens, pdf

    def slow_read(content: object, data: bytes) -> list[tuple[object, bytes]]:
        time.sleep(2)  # the deadline's SIGALRM arrives here
        return []

    monkeypatch.setattr(content_tokens, "_read", slow_read)
    page = pypdf.PdfReader(io.BytesIO(generate(3, 1, layouts=(0,))[0].pdf)).pages[0]
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        pdf._page_text(page, 1, ExtractSettings(page_timeout_seconds=0.2))
    assert caught.value.code == "TIMEOUT" and time.monotonic() - started < 1.5


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    with pytest.raises(IngestError) as caught:
        load_pdf(fifo, LIMITS)
    assert caught.value.code == "NOT_PDF"


def test_einvoice_attachment_is_returned(shared_data: Path) -> None:
    pdf = shared_data / "zugferd" / "pdfs" / "ZUGFeRDv1" / "correct" / "Intarsys" / "ZUGFeRD_1p0_BASIC_Einfach.pdf"
    document = load_pdf(pdf, LIMITS)
    assert document.einvoice_name == "ZUGFeRD-invoice.xml"
    assert document.einvoice_xml is not None and b"CrossIndustryDocument" in document.einvoice_xml


def test_closing_a_sandbox_kills_busy_children_too() -> None:
    """A command that fails while its reading children are still starting or busy must not leave them behind."""
    sandbox = Sandbox(256 * 1024**2)
    pid = sandbox.run(os.getpid, timeout=10)  # the child the next request reuses
    outcome: list[BaseException] = []

    def busy() -> None:
        try:
            sandbox.run(time.sleep, 30, timeout=60)
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    worker = threading.Thread(target=busy)
    worker.start()
    time.sleep(0.5)
    sandbox.close()
    worker.join(10)
    assert not worker.is_alive() and isinstance(outcome[0], SandboxCrashed)
    assert not Path(f"/proc/{pid}").exists(), "the busy child outlived close()"


def test_sandbox_kills_hung_oversized_and_crashing_children() -> None:
    sandbox = Sandbox(256 * 1024**2)
    try:
        with pytest.raises(SandboxTimeout):
            sandbox.run(time.sleep, 30, timeout=0.5)
        with pytest.raises(SandboxMemory):
            sandbox.run(bytearray, 1024**3, timeout=10)
        with pytest.raises(SandboxCrashed):
            sandbox.run(os.abort, timeout=10)
        assert sandbox.run(len, "still works", timeout=10) == 11
    finally:
        sandbox.close()


def test_a_child_collects_cycles_seldom_and_never_walks_its_imports() -> None:
    """A parse allocates objects by the hundred thousand that all live until the document is done: a child's young
    collections run every ``_YOUNG_OBJECTS`` allocations (not Python's 700), and what it imported is frozen. Cycles
    are still collected: a collector switched off would let a hostile file's garbage grow to the memory limit."""
    sandbox = Sandbox(256 * 1024**2)
    try:
        assert sandbox.run(gc.get_threshold, timeout=10)[0] == _YOUNG_OBJECTS > 700
        assert sandbox.run(gc.get_freeze_count, timeout=10) > 1000
        assert sandbox.run(gc.isenabled, timeout=10)
    finally:
        sandbox.close()
