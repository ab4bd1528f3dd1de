"""The sample documents as files: reportlab pages of an invoice or a KYC form, a scan of one, a Factur-X XML.

``samples.py`` decides what each sample holds (``sample_fields.py`` draws the values); this module only
renders. reportlab's invariant mode keeps timestamps and random ids out, so the same values give the same
bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from extractors.sample_fields import InvoiceDraft
from extractors.schemas import InvoiceFields, KycFields

__all__ = ["cii_xml", "invoice_pdf", "kyc_pdf", "scanned_copy", "with_attachment"]


def invoice_pdf(invoice: InvoiceDraft, *, encrypt: str | None = None) -> bytes:
    """One A4 page of ``invoice`` (encrypted with user password ``encrypt`` if given)."""
    return _pdf(lambda canvas: _draw_invoice(canvas, invoice), encrypt=encrypt)


def kyc_pdf(kyc: KycFields) -> bytes:
    """One A4 onboarding form filled in with ``kyc``."""
    return _pdf(lambda canvas: _draw_kyc(canvas, kyc))


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


def _draw_invoice(canvas: Canvas, invoice: InvoiceDraft) -> None:
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


def cii_xml(inv: InvoiceFields) -> bytes:
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


def with_attachment(pdf_bytes: bytes, name: str, data: bytes) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes))
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_copy(pdf_bytes: bytes, dpi: int = 200) -> bytes:
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
