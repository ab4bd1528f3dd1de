"""The sample inbox: deterministic bytes, ground truth that matches what is printed, every defect present."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest

from extractors.samples import SampleDoc, write_sample_inbox


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleDoc]]:
    folder = tmp_path_factory.mktemp("inbox")
    return folder, write_sample_inbox(folder, count=16, seed=7)


def test_same_seed_same_bytes_other_seed_other_bytes(inbox: tuple[Path, list[SampleDoc]], tmp_path: Path) -> None:
    folder, docs = inbox
    again = write_sample_inbox(tmp_path / "again", count=16, seed=7)
    assert [d.file for d in again] == [d.file for d in docs]
    assert all((folder / d.file).read_bytes() == (tmp_path / "again" / d.file).read_bytes() for d in docs)
    other = write_sample_inbox(tmp_path / "other", count=3, seed=8)
    assert (folder / "invoice-001.pdf").read_bytes() != (tmp_path / "other" / other[0].file).read_bytes()


def test_every_defect_is_present_once(inbox: tuple[Path, list[SampleDoc]]) -> None:
    _, docs = inbox
    defects = [d.defect for d in docs if d.defect]
    assert sorted(set(defects)) == sorted(
        {
            "bad_iban_checksum",
            "total_mismatch",
            "due_before_issue",
            "missing_field",
            "invalid_vat_id",
            "duplicate_invoice_number",
            "image_only_page",
            "encrypted",
            "not_pdf",
            "einvoice_page_altered",
        }
    )
    assert len(docs) == 16 and len({d.file for d in docs}) == 16


def test_text_layer_carries_the_truth(inbox: tuple[Path, list[SampleDoc]]) -> None:
    folder, docs = inbox
    for doc in docs:
        if doc.ingest_error or doc.ocr:
            continue
        text = pypdf.PdfReader(folder / doc.file).pages[0].extract_text()
        for name in ("invoice_number", "seller_name", "buyer_name", "full_name", "email", "passport_number"):
            if name in doc.fields:
                assert doc.fields[name] in text, (doc.file, name)


def test_clean_invoices_add_up(inbox: tuple[Path, list[SampleDoc]]) -> None:
    _, docs = inbox
    for doc in docs:
        if doc.kind != "invoice" or doc.findings:
            continue
        f = doc.fields
        lines = sum(Decimal(item["amount"]) for item in f["line_items"])
        assert lines == Decimal(f["net_total"])
        assert Decimal(f["net_total"]) + Decimal(f["tax_total"]) == Decimal(f["grand_total"])
        assert f["due_date"] >= f["issue_date"]


def test_special_files(inbox: tuple[Path, list[SampleDoc]]) -> None:
    folder, docs = inbox
    by_defect = {d.defect: d for d in docs}
    assert pypdf.PdfReader(folder / by_defect["encrypted"].file).is_encrypted
    assert not (folder / by_defect["not_pdf"].file).read_bytes().startswith(b"%PDF")
    scanned = pypdf.PdfReader(folder / by_defect["image_only_page"].file)
    assert scanned.pages[0].extract_text().strip() == ""
    duplicate = by_defect["duplicate_invoice_number"]
    first = next(d for d in docs if d.file == "invoice-001.pdf")
    assert duplicate.fields["invoice_number"] == first.fields["invoice_number"]
    assert duplicate.fields["seller_vat_id"] == first.fields["seller_vat_id"]


def test_cli_writes_files_and_truth(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "docval", "samples", str(tmp_path / "inbox"), "--count", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    truth = json.loads((tmp_path / "inbox.truth.json").read_text())
    assert sorted(t["file"] for t in truth) == sorted(p.name for p in (tmp_path / "inbox").iterdir())
