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
invoice number, an image-only scanned page, an encrypted PDF and a file that
is not a PDF at all.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from faker import Faker
from pydantic import BaseModel
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from stdnum import iban as stdnum_iban
from stdnum.de import idnr
from stdnum.iso7064 import mod_11_10

from docval.domain import DocKind

__all__ = ["SampleDoc", "write_sample_inbox"]

CENT = Decimal("0.01")


class SampleDoc(BaseModel):
    """Ground truth of one sample file: what a correct pipeline must read from it and flag."""

    file: str
    kind: DocKind | None  # None: not a document docval can read (ingest fails first)
    defect: str | None = None
    fields: dict[str, Any] = {}  # JSON-ready: ISO dates, money as decimal strings
    findings: list[str] = []  # expected finding codes, sorted
    ingest_error: str | None = None  # expected IngestError code, if ingest must refuse the file
    ocr: bool = False  # page(s) carry no text layer


@dataclass
class _Invoice:
    number: str
    issue: date
    due: date
    seller: str
    seller_address: list[str]
    seller_vat: str | None
    buyer: str
    buyer_address: list[str]
    iban: str
    currency: str
    lines: list[tuple[str, Decimal, Decimal, Decimal]]
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    findings: list[str] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "invoice_number": self.number,
            "issue_date": self.issue.isoformat(),
            "due_date": self.due.isoformat(),
            "seller_name": self.seller,
            "seller_vat_id": self.seller_vat,
            "seller_address": ", ".join(self.seller_address),
            "buyer_name": self.buyer,
            "iban": self.iban,
            "currency": self.currency,
            "line_items": [
                {"description": d, "quantity": str(q), "unit_price": str(p), "amount": str(a)}
                for d, q, p, a in self.lines
            ],
            "net_total": str(self.net),
            "tax_rate": str(self.tax_rate),
            "tax_total": str(self.tax),
            "grand_total": str(self.total),
        }
        return {k: v for k, v in fields.items() if v is not None}


@dataclass
class _Kyc:
    full_name: str
    date_of_birth: date | None
    address: str
    email: str
    phone: str
    passport_number: str
    national_id: str
    iban: str
    findings: list[str] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "address": self.address,
            "email": self.email,
            "phone": self.phone,
            "passport_number": self.passport_number,
            "national_id": self.national_id,
            "iban": self.iban,
        }
        return {k: v for k, v in fields.items() if v is not None}


class _Generator:
    """Seeded source of plausible, checksum-valid identifiers and documents."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))

    def vat_id(self) -> str:
        """A German VAT id (USt-IdNr): 8 digits plus an ISO 7064 mod 11,10 check digit."""
        body = self.digits(8)
        return f"DE{body}{mod_11_10.calc_check_digit(body)}"

    def iban(self) -> str:
        bban = self.digits(8) + self.digits(10)
        return f"DE{stdnum_iban.calc_check_digits('DE00' + bban)}{bban}"

    def national_id(self) -> str:
        """A German tax id (IdNr): its digit-repetition rules make rejection sampling the simple way."""
        while True:
            body = self.digits(10)
            candidate = body + mod_11_10.calc_check_digit(body)
            if idnr.is_valid(candidate):
                return candidate

    def passport(self) -> str:
        alphabet = "CFGHJKLMNPRTVWXYZ0123456789"
        return "C" + "".join(self.rng.choice(alphabet) for _ in range(8))

    def address(self) -> list[str]:
        return [self.fake.street_address().replace("\n", ", "), f"{self.fake.postcode()} {self.fake.city()}"]

    def invoice(self, number: str | None = None, seller: tuple[str, list[str], str] | None = None) -> _Invoice:
        issue = date(2026, 1, 5) + timedelta(days=self.rng.randint(0, 280))
        rate = self.rng.choice([Decimal(19), Decimal(7)])
        lines = []
        for _ in range(self.rng.randint(1, 4)):
            quantity = Decimal(self.rng.randint(1, 12))
            price = (Decimal(self.rng.randint(500, 250000)) / 100).quantize(CENT)
            lines.append((self.fake.bs().capitalize(), quantity, price, (quantity * price).quantize(CENT)))
        net = sum((line[3] for line in lines), Decimal(0))
        tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        seller_name, seller_address, seller_vat = seller or (self.fake.company(), self.address(), self.vat_id())
        return _Invoice(
            number=number or f"INV-{issue.year}-{self.rng.randint(1000, 99999):05d}",
            issue=issue,
            due=issue + timedelta(days=self.rng.choice([14, 30])),
            seller=seller_name,
            seller_address=seller_address,
            seller_vat=seller_vat,
            buyer=self.fake.company(),
            buyer_address=self.address(),
            iban=self.iban(),
            currency="EUR",
            lines=lines,
            tax_rate=rate,
            net=net,
            tax=tax,
            total=net + tax,
        )

    def kyc(self) -> _Kyc:
        return _Kyc(
            full_name=self.fake.name(),
            date_of_birth=self.fake.date_of_birth(minimum_age=18, maximum_age=85),
            address=", ".join(self.address()),
            email=self.fake.email(),
            phone=self.fake.phone_number(),
            passport_number=self.passport(),
            national_id=self.national_id(),
            iban=self.iban(),
        )


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _spaced_iban(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def _canvas(buffer: io.BytesIO, encrypt: str | None = None) -> Canvas:
    """A canvas without timestamps or random ids, so the same content gives the same bytes."""
    encryption = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner", strength=128) if encrypt else None
    return Canvas(buffer, pagesize=A4, invariant=1, encrypt=encryption)


def _draw_invoice(canvas: Canvas, inv: _Invoice) -> None:
    width, height = A4
    y = height - 60
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(50, y, "INVOICE")
    canvas.setFont("Helvetica-Bold", 11)
    y -= 30
    canvas.drawString(50, y, inv.seller)
    canvas.setFont("Helvetica", 10)
    for line in inv.seller_address:
        y -= 14
        canvas.drawString(50, y, line)
    if inv.seller_vat:
        y -= 14
        canvas.drawString(50, y, f"VAT ID: {inv.seller_vat}")

    meta = [
        ("Invoice number:", inv.number),
        ("Invoice date:", inv.issue.isoformat()),
        ("Due date:", inv.due.isoformat()),
        ("Currency:", inv.currency),
    ]
    my = height - 90
    for label, value in meta:
        canvas.drawString(340, my, label)
        canvas.drawString(440, my, value)
        my -= 14

    y -= 34
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(50, y, "Bill to:")
    canvas.setFont("Helvetica", 10)
    for line in [inv.buyer, *inv.buyer_address]:
        y -= 14
        canvas.drawString(50, y, line)

    y -= 36
    canvas.setFont("Helvetica-Bold", 10)
    columns = [(50, "Description"), (330, "Qty"), (400, "Unit price"), (490, "Amount")]
    for x, title in columns:
        canvas.drawString(x, y, title)
    canvas.line(50, y - 4, width - 50, y - 4)
    canvas.setFont("Helvetica", 10)
    for description, quantity, price, amount in inv.lines:
        y -= 18
        canvas.drawString(50, y, description[:48])
        canvas.drawRightString(350, y, str(quantity))
        canvas.drawRightString(460, y, _money(price))
        canvas.drawRightString(width - 50, y, _money(amount))
    canvas.line(50, y - 6, width - 50, y - 6)

    y -= 26
    totals = [
        ("Net total:", _money(inv.net)),
        (f"VAT {inv.tax_rate}%:", _money(inv.tax)),
        ("Total due:", f"{_money(inv.total)} {inv.currency}"),
    ]
    for label, value in totals:
        canvas.drawString(380, y, label)
        canvas.drawRightString(width - 50, y, value)
        y -= 16

    y -= 30
    canvas.drawString(50, y, f"Please pay by {inv.due.isoformat()} to IBAN: {_spaced_iban(inv.iban)}")
    y -= 14
    canvas.drawString(50, y, f"Reference: {inv.number}")


def _draw_kyc(canvas: Canvas, kyc: _Kyc) -> None:
    _, height = A4
    y = height - 60
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(50, y, "Customer Onboarding Form (KYC)")
    canvas.setFont("Helvetica", 10)
    y -= 20
    canvas.drawString(50, y, "Please complete all fields in block letters. Identity documents must be valid.")
    rows = [
        ("Full name:", kyc.full_name),
        ("Date of birth:", kyc.date_of_birth.isoformat() if kyc.date_of_birth else ""),
        ("Address:", kyc.address),
        ("Email:", kyc.email),
        ("Phone:", kyc.phone),
        ("Passport number:", kyc.passport_number),
        ("National ID:", kyc.national_id),
        ("IBAN:", _spaced_iban(kyc.iban)),
    ]
    y -= 30
    for label, value in rows:
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(50, y, label)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(170, y, value)
        y -= 22
    y -= 20
    canvas.drawString(50, y, "I confirm that the information above is complete and correct.")


def _pdf(draw: Callable[[Canvas], None], *, encrypt: str | None = None) -> bytes:
    buffer = io.BytesIO()
    canvas = _canvas(buffer, encrypt)
    draw(canvas)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _scanned(pdf_bytes: bytes, dpi: int = 200) -> bytes:
    """The same page as an image only, as a scanner would produce it: no text layer left."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        image = document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=False)
    png.seek(0)

    def draw(canvas: Canvas) -> None:
        canvas.drawImage(ImageReader(png), 0, 0, width=A4[0], height=A4[1])

    return _pdf(draw)


def _build(gen: _Generator, count: int) -> list[tuple[SampleDoc, bytes]]:
    """The fixed defect set first, then alternating clean invoices and KYC forms up to ``count``."""
    docs: list[tuple[SampleDoc, bytes]] = []

    def add_invoice(name: str, inv: _Invoice, defect: str | None = None, *, scanned: bool = False) -> None:
        data = _pdf(lambda c: _draw_invoice(c, inv))
        doc = SampleDoc(
            file=name,
            kind=DocKind.INVOICE,
            defect=defect,
            fields=inv.truth(),
            findings=sorted(inv.findings),
            ocr=scanned,
        )
        docs.append((doc, _scanned(data) if scanned else data))

    def add_kyc(name: str, kyc: _Kyc, defect: str | None = None) -> None:
        data = _pdf(lambda c: _draw_kyc(c, kyc))
        docs.append(
            (
                SampleDoc(file=name, kind=DocKind.KYC_FORM, defect=defect, fields=kyc.truth(), findings=kyc.findings),
                data,
            )
        )

    original = gen.invoice()
    add_invoice("invoice-001.pdf", original)
    add_kyc("kyc-002.pdf", gen.kyc())

    bad_iban = gen.invoice()
    bad_iban.iban = _break_iban(bad_iban.iban)
    bad_iban.findings = ["IBAN_CHECKSUM"]
    add_invoice("invoice-003-bad-iban.pdf", bad_iban, "bad_iban_checksum")

    mismatch = gen.invoice()
    mismatch.total += Decimal("10.00")
    mismatch.findings = ["TOTAL_MISMATCH"]
    add_invoice("invoice-004-total-mismatch.pdf", mismatch, "total_mismatch")

    backdated = gen.invoice()
    backdated.due = backdated.issue - timedelta(days=10)
    backdated.findings = ["DATE_ORDER"]
    add_invoice("invoice-005-due-before-issue.pdf", backdated, "due_before_issue")

    no_vat = gen.invoice()
    no_vat.seller_vat = None
    no_vat.findings = ["MISSING_FIELD"]
    add_invoice("invoice-006-missing-vat-id.pdf", no_vat, "missing_field")

    bad_vat = gen.invoice()
    bad_vat.seller_vat = _break_digit(bad_vat.seller_vat or "")
    bad_vat.findings = ["VAT_ID_INVALID"]
    add_invoice("invoice-007-invalid-vat-id.pdf", bad_vat, "invalid_vat_id")

    duplicate = gen.invoice(
        number=original.number, seller=(original.seller, original.seller_address, original.seller_vat)
    )
    duplicate.findings = ["DUPLICATE"]
    add_invoice("invoice-008-duplicate-number.pdf", duplicate, "duplicate_invoice_number")

    add_invoice("invoice-009-scanned.pdf", gen.invoice(), "image_only_page", scanned=True)

    locked = gen.invoice()
    docs.append(
        (
            SampleDoc(file="invoice-010-encrypted.pdf", kind=None, defect="encrypted", ingest_error="ENCRYPTED"),
            _pdf(lambda c: _draw_invoice(c, locked), encrypt=gen.fake.password(length=12)),
        )
    )
    docs.append(
        (
            SampleDoc(file="invoice-011-not-a-pdf.pdf", kind=None, defect="not_pdf", ingest_error="NOT_PDF"),
            ("Meeting notes\n" + gen.fake.paragraph(nb_sentences=5) + "\n").encode(),
        )
    )

    kyc_bad_iban = gen.kyc()
    kyc_bad_iban.iban = _break_iban(kyc_bad_iban.iban)
    kyc_bad_iban.findings = ["IBAN_CHECKSUM"]
    add_kyc("kyc-012-bad-iban.pdf", kyc_bad_iban, "bad_iban_checksum")

    kyc_missing = gen.kyc()
    kyc_missing.date_of_birth = None
    kyc_missing.findings = ["MISSING_FIELD"]
    add_kyc("kyc-013-missing-dob.pdf", kyc_missing, "missing_field")

    number = len(docs)
    while len(docs) < count:
        number += 1
        if number % 2:
            add_invoice(f"invoice-{number:03d}.pdf", gen.invoice())
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

    The first 13 are the defect set (see the module docstring); more are clean.
    ``truth_file`` (if given) receives the ground truth as JSON; it is kept out
    of ``folder`` because ``folder`` is usually a watched inbox.
    """
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for doc, data in _build(_Generator(seed), count):
        (folder / doc.file).write_bytes(data)
        samples.append(doc)
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        payload = "[\n" + ",\n".join(doc.model_dump_json() for doc in samples) + "\n]\n"
        truth_file.write_text(payload, encoding="utf-8")
    return samples
