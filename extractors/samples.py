"""Deterministic synthetic documents with ground truth: the sample inbox and a test corpus.

A new user (``make run``) should see documents flow, and tests need PDFs whose
correct fields and findings are known. Both come from here: invoices and KYC
onboarding forms drawn with reportlab from Faker data, each written with the
fields a reader would see on it and the finding codes validation must raise.
The same ``seed`` always gives the same bytes (reportlab's invariant mode, no
clocks, no randomness outside the seeded generators), so document ids are
stable across runs and machines.

Defects covered, one document each: bad IBAN checksum, total mismatch, due
date before issue date, a missing required field, an invalid VAT id, a reused
invoice number, an image-only scanned page, an encrypted PDF, a file that is
not a PDF at all, and a Factur-X e-invoice whose visible page shows another
IBAN than its embedded XML.

This module decides what each sample is and what a reader must find on it;
``sample_fields`` draws the seeded values and ``sample_files`` renders them
as PDF pages (and the e-invoice XML).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from docval.domain import DocKind
from extractors.sample_fields import InvoiceDraft, SampleValues
from extractors.sample_files import cii_xml, invoice_pdf, kyc_pdf, scanned_copy, with_attachment
from extractors.schemas import InvoiceFields, KycFields

__all__ = ["SampleDoc", "write_sample_inbox"]


class SampleDoc(BaseModel):
    """Ground truth of one sample file: what a correct pipeline must read from it and flag."""

    file: str
    kind: DocKind | None  # None: not a document docval can read (ingest fails first)
    defect: str | None = None
    fields: dict[str, Any] = {}  # JSON-ready: ISO dates, money as decimal strings
    findings: list[str] = []  # expected finding codes, sorted
    ingest_error: str | None = None  # expected IngestError code, if ingest must refuse the file
    ocr: bool = False  # page(s) carry no text layer


def _truth(fields: InvoiceFields | KycFields) -> dict[str, Any]:
    return fields.model_dump(mode="json", exclude_none=True)


def _build(gen: SampleValues, count: int) -> list[tuple[SampleDoc, bytes]]:
    """The fixed defect set first, then alternating clean invoices and KYC forms up to ``count``."""
    docs: list[tuple[SampleDoc, bytes]] = []

    def add_invoice(
        name: str, invoice: InvoiceDraft, defect: str | None = None, findings: list[str] | None = None, *, scanned=False
    ) -> None:
        data = invoice_pdf(invoice)
        doc = SampleDoc(
            file=name,
            kind=DocKind.INVOICE,
            defect=defect,
            fields=_truth(invoice.fields),
            findings=findings or [],
            ocr=scanned,
        )
        docs.append((doc, scanned_copy(data) if scanned else data))

    def add_kyc(name: str, kyc: KycFields, defect: str | None = None, findings: list[str] | None = None) -> None:
        doc = SampleDoc(file=name, kind=DocKind.KYC_FORM, defect=defect, fields=_truth(kyc), findings=findings or [])
        docs.append((doc, kyc_pdf(kyc)))

    original = gen.invoice()
    add_invoice("invoice-001.pdf", original)
    add_kyc("kyc-002.pdf", gen.kyc())

    bad_iban = gen.invoice()
    bad_iban.fields.iban = _break_iban(bad_iban.fields.iban or "")
    add_invoice("invoice-003-bad-iban.pdf", bad_iban, "bad_iban_checksum", ["IBAN_CHECKSUM"])

    mismatch = gen.invoice()
    mismatch.fields.grand_total = (mismatch.fields.grand_total or Decimal(0)) + Decimal("10.00")
    add_invoice("invoice-004-total-mismatch.pdf", mismatch, "total_mismatch", ["TOTAL_MISMATCH"])

    backdated = gen.invoice()
    backdated.fields.due_date = (backdated.fields.issue_date or date.min) - timedelta(days=10)
    add_invoice("invoice-005-due-before-issue.pdf", backdated, "due_before_issue", ["DATE_ORDER"])

    no_vat = gen.invoice()
    no_vat.fields.seller_vat_id = None
    add_invoice("invoice-006-missing-vat-id.pdf", no_vat, "missing_field", ["MISSING_FIELD"])

    bad_vat = gen.invoice()
    bad_vat.fields.seller_vat_id = _break_digit(bad_vat.fields.seller_vat_id or "")
    add_invoice("invoice-007-invalid-vat-id.pdf", bad_vat, "invalid_vat_id", ["VAT_ID_INVALID"])

    duplicate = gen.invoice(number=original.fields.invoice_number, seller=original.fields)
    add_invoice("invoice-008-duplicate-number.pdf", duplicate, "duplicate_invoice_number", ["DUPLICATE"])

    add_invoice("invoice-009-scanned.pdf", gen.invoice(), "image_only_page", scanned=True)

    locked = gen.invoice()
    docs.append(
        (
            SampleDoc(file="invoice-010-encrypted.pdf", kind=None, defect="encrypted", ingest_error="ENCRYPTED"),
            invoice_pdf(locked, encrypt=gen.fake.password(length=12)),
        )
    )
    docs.append(
        (
            SampleDoc(file="invoice-011-not-a-pdf.pdf", kind=None, defect="not_pdf", ingest_error="NOT_PDF"),
            ("Meeting notes\n" + gen.fake.paragraph(nb_sentences=5) + "\n").encode(),
        )
    )

    kyc_bad_iban = gen.kyc()
    kyc_bad_iban.iban = _break_iban(kyc_bad_iban.iban or "")
    add_kyc("kyc-012-bad-iban.pdf", kyc_bad_iban, "bad_iban_checksum", ["IBAN_CHECKSUM"])

    kyc_missing = gen.kyc()
    kyc_missing.date_of_birth = None
    add_kyc("kyc-013-missing-dob.pdf", kyc_missing, "missing_field", ["MISSING_FIELD"])

    # Factur-X whose visible page was edited after the XML was made: the payee IBAN on the page is another one.
    # A correct pipeline reads the XML's fields and reports the page's disagreement.
    booked = gen.invoice()
    shown = InvoiceDraft(
        fields=booked.fields.model_copy(update={"iban": gen.iban()}), buyer_address=booked.buyer_address
    )
    docs.append(
        (
            SampleDoc(
                file="invoice-014-einvoice-altered.pdf",
                kind=DocKind.INVOICE,
                defect="einvoice_page_altered",
                fields=_truth(booked.fields),
                findings=["EINVOICE_MISMATCH"],
            ),
            with_attachment(invoice_pdf(shown), "factur-x.xml", cii_xml(booked.fields)),
        )
    )

    number = len(docs)
    while len(docs) < count:
        number += 1
        if number % 2:  # every other clean invoice is small: the demo shows both straight-through and large-amount
            add_invoice(f"invoice-{number:03d}.pdf", gen.invoice(small=number % 4 == 3))
        else:
            add_kyc(f"kyc-{number:03d}.pdf", gen.kyc())
    return docs[:count]


def _break_digit(value: str) -> str:
    """Change the last digit so a checksum that covered it fails."""
    last = value[-1]
    return value[:-1] + str((int(last) + 1) % 10)


def _break_iban(value: str) -> str:
    """Swap the IBAN's two check digits for others: same shape, failing mod 97."""
    check = int(value[2:4])
    return f"{value[:2]}{(check + 1) % 97 + 2:02d}{value[4:]}"


SAMPLE_COUNT = 16
SAMPLE_SEED = 20261125


def write_sample_inbox(
    folder: Path, count: int = SAMPLE_COUNT, seed: int = SAMPLE_SEED, *, truth_file: Path | None = None
) -> list[SampleDoc]:
    """Write ``count`` sample files into ``folder`` and return their ground truth.

    The first 14 are the defect set (see the module docstring); more are clean.
    ``truth_file`` (if given) receives the ground truth as JSON; it is kept out
    of ``folder`` because ``folder`` is usually a watched inbox.
    """
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for doc, data in _build(SampleValues(seed), count):
        (folder / doc.file).write_bytes(data)
        samples.append(doc)
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        payload = "[\n" + ",\n".join(doc.model_dump_json() for doc in samples) + "\n]\n"
        truth_file.write_text(payload, encoding="utf-8")
    return samples
