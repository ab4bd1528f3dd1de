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
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
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
from extractors.schemas import InvoiceFields, KycFields, LineItem

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
    """An invoice's fields (the ground truth, in schema form) plus what is printed but not extracted."""

    fields: InvoiceFields
    buyer_address: list[str]


def _truth(fields: InvoiceFields | KycFields) -> dict[str, Any]:
    return fields.model_dump(mode="json", exclude_none=True)


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

    def invoice(
        self, number: str | None = None, seller: InvoiceFields | None = None, *, small: bool = False
    ) -> _Invoice:
        """A consistent invoice; ``seller`` reuses another invoice's seller (for the duplicate case).

        ``small``: under the default policy's 5,000 large-amount limit (at most 2 lines of 3 × 600.00 + 19 %),
        so a clean one can pass straight through in the demo.
        """
        issue = date(2026, 1, 5) + timedelta(days=self.rng.randint(0, 280))
        rate = self.rng.choice([Decimal(19), Decimal(7)])
        lines = []
        most_lines, most_quantity, most_cents = (2, 3, 60000) if small else (4, 12, 250000)
        for _ in range(self.rng.randint(1, most_lines)):
            quantity = Decimal(self.rng.randint(1, most_quantity))
            price = (Decimal(self.rng.randint(500, most_cents)) / 100).quantize(CENT)
            lines.append(
                LineItem(
                    description=self.fake.bs().capitalize(),
                    quantity=quantity,
                    unit_price=price,
                    amount=(quantity * price).quantize(CENT),
                )
            )
        net = sum((line.amount or Decimal(0) for line in lines), Decimal(0))
        tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        fields = InvoiceFields(
            invoice_number=number or f"INV-{issue.year}-{self.rng.randint(1000, 99999):05d}",
            issue_date=issue,
            due_date=issue + timedelta(days=self.rng.choice([14, 30])),
            seller_name=seller.seller_name if seller else self.fake.company(),
            seller_vat_id=seller.seller_vat_id if seller else self.vat_id(),
            seller_address=seller.seller_address if seller else ", ".join(self.address()),
            buyer_name=self.fake.company(),
            iban=self.iban(),
            currency="EUR",
            line_items=lines,
            net_total=net,
            tax_rate=rate,
            tax_total=tax,
            grand_total=net + tax,
        )
        return _Invoice(fields=fields, buyer_address=self.address())

    def kyc(self) -> KycFields:
        return KycFields(
            full_name=self.fake.name(),
            date_of_birth=self.fake.date_of_birth(minimum_age=18, maximum_age=85),
            address=", ".join(self.address()),
            email=self.fake.email(),
            phone=self.fake.phone_number(),
            passport_number=self.passport(),
            national_id=self.national_id(),
            iban=self.iban(),
        )


def _money(amount: Decimal | None) -> str:
    return f"{amount or 0:,.2f}"


def _spaced_iban(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def _canvas(buffer: io.BytesIO, encrypt: str | None = None) -> Canvas:
    """A canvas without timestamps or random ids, so the same content gives the same bytes."""
    encryption = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner", strength=128) if encrypt else None
    return Canvas(buffer, pagesize=A4, invariant=1, encrypt=encryption)


def _title(canvas: Canvas, title: str, size: int) -> float:
    """Draw the page title; returns the baseline it used."""
    y = A4[1] - 60
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(50, y, title)
    return y


def _draw_invoice(canvas: Canvas, invoice: _Invoice) -> None:
    inv = invoice.fields
    width, height = A4
    y = _title(canvas, "INVOICE", 20) - 30
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(50, y, inv.seller_name or "")
    canvas.setFont("Helvetica", 10)
    for line in (inv.seller_address or "").split(", "):
        y -= 14
        canvas.drawString(50, y, line)
    if inv.seller_vat_id:
        y -= 14
        canvas.drawString(50, y, f"VAT ID: {inv.seller_vat_id}")

    meta = [
        ("Invoice number:", inv.invoice_number or ""),
        ("Invoice date:", str(inv.issue_date)),
        ("Due date:", str(inv.due_date)),
        ("Currency:", inv.currency or ""),
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
    for line in [inv.buyer_name or "", *invoice.buyer_address]:
        y -= 14
        canvas.drawString(50, y, line)

    y -= 36
    canvas.setFont("Helvetica-Bold", 10)
    columns = [(50, "Description"), (330, "Qty"), (400, "Unit price"), (490, "Amount")]
    for x, title in columns:
        canvas.drawString(x, y, title)
    canvas.line(50, y - 4, width - 50, y - 4)
    canvas.setFont("Helvetica", 10)
    for item in inv.line_items or []:
        y -= 18
        canvas.drawString(50, y, (item.description or "")[:48])
        canvas.drawRightString(350, y, str(item.quantity))
        canvas.drawRightString(460, y, _money(item.unit_price))
        canvas.drawRightString(width - 50, y, _money(item.amount))
    canvas.line(50, y - 6, width - 50, y - 6)

    y -= 26
    totals = [
        ("Net total:", _money(inv.net_total)),
        (f"VAT {inv.tax_rate}%:", _money(inv.tax_total)),
        ("Total due:", f"{_money(inv.grand_total)} {inv.currency}"),
    ]
    for label, value in totals:
        canvas.drawString(380, y, label)
        canvas.drawRightString(width - 50, y, value)
        y -= 16

    y -= 30
    canvas.drawString(50, y, f"Please pay by {inv.due_date} to IBAN: {_spaced_iban(inv.iban or '')}")
    y -= 14
    canvas.drawString(50, y, f"Reference: {inv.invoice_number}")


def _draw_kyc(canvas: Canvas, kyc: KycFields) -> None:
    y = _title(canvas, "Customer Onboarding Form (KYC)", 18) - 20
    canvas.setFont("Helvetica", 10)
    canvas.drawString(50, y, "Please complete all fields in block letters. Identity documents must be valid.")
    rows = [
        ("Full name:", kyc.full_name or ""),
        ("Date of birth:", kyc.date_of_birth.isoformat() if kyc.date_of_birth else ""),
        ("Address:", kyc.address or ""),
        ("Email:", kyc.email or ""),
        ("Phone:", kyc.phone or ""),
        ("Passport number:", kyc.passport_number or ""),
        ("National ID:", kyc.national_id or ""),
        ("IBAN:", _spaced_iban(kyc.iban or "")),
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


_CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def _cii_xml(inv: InvoiceFields) -> bytes:
    """A Factur-X / ZUGFeRD 2 (EN 16931 CII) document carrying ``inv``: what the seller's system would embed."""
    from lxml import etree

    def add(parent: Any, tag: str, text: object = None, **attributes: str) -> Any:
        prefix, name = tag.split(":")
        element = etree.SubElement(parent, f"{{{_CII[prefix]}}}{name}", attributes)
        if text is not None:
            element.text = str(text)
        return element

    def cii_date(parent: Any, tag: str, value: date | None) -> None:
        add(add(parent, tag), "udt:DateTimeString", f"{value:%Y%m%d}", format="102")

    root = etree.Element(f"{{{_CII['rsm']}}}CrossIndustryInvoice", nsmap=_CII)
    context = add(root, "rsm:ExchangedDocumentContext")
    add(add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", "urn:cen.eu:en16931:2017")
    document = add(root, "rsm:ExchangedDocument")
    add(document, "ram:ID", inv.invoice_number)
    add(document, "ram:TypeCode", "380")
    cii_date(document, "ram:IssueDateTime", inv.issue_date)
    transaction = add(root, "rsm:SupplyChainTradeTransaction")
    for number, item in enumerate(inv.line_items or [], start=1):
        line = add(transaction, "ram:IncludedSupplyChainTradeLineItem")
        add(add(line, "ram:AssociatedDocumentLineDocument"), "ram:LineID", number)
        add(add(line, "ram:SpecifiedTradeProduct"), "ram:Name", item.description)
        price = add(add(line, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        add(price, "ram:ChargeAmount", item.unit_price)
        add(add(line, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", item.quantity, unitCode="C62")
        summary = add(
            add(line, "ram:SpecifiedLineTradeSettlement"), "ram:SpecifiedTradeSettlementLineMonetarySummation"
        )
        add(summary, "ram:LineTotalAmount", item.amount)
    agreement = add(transaction, "ram:ApplicableHeaderTradeAgreement")
    seller = add(agreement, "ram:SellerTradeParty")
    add(seller, "ram:Name", inv.seller_name)
    street, _, town = (inv.seller_address or "").rpartition(", ")
    address = add(seller, "ram:PostalTradeAddress")
    add(address, "ram:LineOne", street)
    add(address, "ram:CityName", town)
    add(address, "ram:CountryID", "DE")
    add(add(seller, "ram:SpecifiedTaxRegistration"), "ram:ID", inv.seller_vat_id, schemeID="VA")
    add(add(agreement, "ram:BuyerTradeParty"), "ram:Name", inv.buyer_name)
    add(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = add(transaction, "ram:ApplicableHeaderTradeSettlement")
    add(settlement, "ram:InvoiceCurrencyCode", inv.currency)
    means = add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    add(means, "ram:TypeCode", "58")
    add(add(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", inv.iban)
    tax = add(settlement, "ram:ApplicableTradeTax")
    add(tax, "ram:CalculatedAmount", inv.tax_total)
    add(tax, "ram:TypeCode", "VAT")
    add(tax, "ram:BasisAmount", inv.net_total)
    add(tax, "ram:CategoryCode", "S")
    add(tax, "ram:RateApplicablePercent", inv.tax_rate)
    cii_date(add(settlement, "ram:SpecifiedTradePaymentTerms"), "ram:DueDateDateTime", inv.due_date)
    totals = add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    add(totals, "ram:LineTotalAmount", inv.net_total)
    add(totals, "ram:TaxBasisTotalAmount", inv.net_total)
    add(totals, "ram:TaxTotalAmount", inv.tax_total, currencyID=inv.currency or "EUR")
    add(totals, "ram:GrandTotalAmount", inv.grand_total)
    add(totals, "ram:DuePayableAmount", inv.grand_total)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _with_attachment(pdf_bytes: bytes, name: str, data: bytes) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes))
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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

    def add_invoice(
        name: str, invoice: _Invoice, defect: str | None = None, findings: list[str] | None = None, *, scanned=False
    ) -> None:
        data = _pdf(lambda c: _draw_invoice(c, invoice))
        doc = SampleDoc(
            file=name,
            kind=DocKind.INVOICE,
            defect=defect,
            fields=_truth(invoice.fields),
            findings=findings or [],
            ocr=scanned,
        )
        docs.append((doc, _scanned(data) if scanned else data))

    def add_kyc(name: str, kyc: KycFields, defect: str | None = None, findings: list[str] | None = None) -> None:
        doc = SampleDoc(file=name, kind=DocKind.KYC_FORM, defect=defect, fields=_truth(kyc), findings=findings or [])
        docs.append((doc, _pdf(lambda c: _draw_kyc(c, kyc))))

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
    kyc_bad_iban.iban = _break_iban(kyc_bad_iban.iban or "")
    add_kyc("kyc-012-bad-iban.pdf", kyc_bad_iban, "bad_iban_checksum", ["IBAN_CHECKSUM"])

    kyc_missing = gen.kyc()
    kyc_missing.date_of_birth = None
    add_kyc("kyc-013-missing-dob.pdf", kyc_missing, "missing_field", ["MISSING_FIELD"])

    # Factur-X whose visible page was edited after the XML was made: the payee IBAN on the page is another one.
    # A correct pipeline reads the XML's fields and reports the page's disagreement.
    booked = gen.invoice()
    shown = _Invoice(fields=booked.fields.model_copy(update={"iban": gen.iban()}), buyer_address=booked.buyer_address)
    docs.append(
        (
            SampleDoc(
                file="invoice-014-einvoice-altered.pdf",
                kind=DocKind.INVOICE,
                defect="einvoice_page_altered",
                fields=_truth(booked.fields),
                findings=["EINVOICE_MISMATCH"],
            ),
            _with_attachment(_pdf(lambda c: _draw_invoice(c, shown)), "factur-x.xml", _cii_xml(booked.fields)),
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
    for doc, data in _build(_Generator(seed), count):
        (folder / doc.file).write_bytes(data)
        samples.append(doc)
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        payload = "[\n" + ",\n".join(doc.model_dump_json() for doc in samples) + "\n]\n"
        truth_file.write_text(payload, encoding="utf-8")
    return samples
