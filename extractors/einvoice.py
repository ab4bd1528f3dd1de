"""The e-invoice tier: EN 16931 XML embedded in a PDF (Factur-X, ZUGFeRD 1/2, XRechnung) as exact fields.

The XML is what the seller's system booked, so it is read before any other
tier, at confidence 1.0. It is also what an attacker would leave untouched
while editing the visible page (a new IBAN, a higher total), so the visible
text is still extracted independently and ``cross_check`` reports every field
whose XML value is printed nowhere on the page (``EINVOICE_MISMATCH``).

Both syntaxes EN 16931 allows are read: UN/CEFACT CII (ZUGFeRD 1.0's
``CrossIndustryDocument`` and the D16B ``CrossIndustryInvoice`` of ZUGFeRD 2,
Factur-X and XRechnung) and OASIS UBL 2.1 ``Invoice`` and ``CreditNote``. Paths are matched on
local names, so namespace prefixes and versions do not matter.

Credit notes: EN 16931 states a credit note's totals as positive amounts and lets the document type
(UNTDID 1001 code 381 and its kin) carry the direction, while the page prints them negative or under a
"credit note" title. docval states every total as money owed to the seller, so a credit note's totals are
negative in the result whichever way the XML writes them (``signed_totals``), and the page reading, which
keeps a printed minus sign, agrees with the XML reading. The parser
refuses DTDs and never resolves entities or fetches anything (XXE, billion
laughs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from docval.domain import ExtractedField, Finding, Tier
from extractors.normalize import plain_number
from extractors.pdf import IngestError
from extractors.printed import is_printed

__all__ = ["COMPARED_FIELDS", "CREDIT_NOTE_TYPE_CODES", "cross_check", "parse_einvoice", "signed_totals"]

Element = Any  # lxml's _Element; kept loose because lxml ships no type stubs


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse_einvoice(xml: bytes) -> dict[str, ExtractedField]:
    """Invoice fields (``schemas.InvoiceFields`` names, JSON-ready values) from CII or UBL XML.

    Raises ``IngestError("EINVOICE_INVALID")`` for XML that is not well-formed,
    carries a DTD, or is neither CII nor UBL; callers then fall back to the text tiers.
    """
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError:
        raise IngestError("EINVOICE_INVALID", "XML is not well-formed") from None
    if root.getroottree().docinfo.doctype:
        raise IngestError("EINVOICE_INVALID", "XML carries a DTD (refused: entity expansion)")
    reader = _READERS.get(etree.QName(root).localname)
    if reader is None:
        raise IngestError("EINVOICE_INVALID", f"root element {etree.QName(root).localname} is neither CII nor UBL")
    values = reader(root)
    return {
        name: ExtractedField(value=value, confidence=1.0, tier=Tier.EINVOICE)
        for name, value in values.items()
        if value not in (None, "", [])
    }


# --- small namespace-agnostic helpers --------------------------------------------------------------------


def _path(steps: str) -> str:
    """``"A/B"`` -> ``"{*}A/{*}B"``: ElementPath that ignores namespaces."""
    return "/".join(step if step in ("", ".", "..") else "{*}" + step for step in steps.split("/"))


def _all(node: Element | None, steps: str) -> list[Element]:
    return [] if node is None else node.findall(_path(steps))


def _one(node: Element | None, steps: str) -> Element | None:
    found = _all(node, steps)
    return found[0] if found else None


def _text(node: Element | None, steps: str) -> str | None:
    for element in _all(node, steps):
        value = " ".join((element.text or "").split())
        if value:
            return value
    return None


def _money(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(Decimal(value))
    except InvalidOperation:
        return None


def _cii_date(node: Element | None) -> str | None:
    """CII dates are ``DateTimeString`` with format 102 (``YYYYMMDD``)."""
    raw = _text(node, "DateTimeString")
    if raw and re.fullmatch(r"\d{8}", raw):
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
        except ValueError:
            return None
    return None


def _iso_date(raw: str | None) -> str | None:
    try:
        return date.fromisoformat(raw).isoformat() if raw else None
    except ValueError:
        return None


def _address(node: Element | None, street: str, more: str, postcode: str, city: str) -> str | None:
    """``street[, more], postcode city``: the order the address is printed on the page."""
    if node is None:
        return None
    town = " ".join(filter(None, [_text(node, postcode), _text(node, city)]))
    parts = [_text(node, street), _text(node, more), town]
    return ", ".join(part for part in parts if part) or None


def _line(item: Element, paths: tuple[str, str, str, str]) -> dict[str, str | None]:
    """One line item from the (description, quantity, unit price, amount) paths of a syntax."""
    description, quantity, unit_price, amount = (_text(item, path) for path in paths)
    return {
        "description": description,
        "quantity": _money(quantity),
        "unit_price": _money(unit_price),
        "amount": _money(amount),
    }


_CII_LINE = (
    "SpecifiedTradeProduct/Name",
    ".//BilledQuantity",
    ".//NetPriceProductTradePrice/ChargeAmount",
    ".//LineTotalAmount",
)
_UBL_LINE = ("Item/Name", "InvoicedQuantity", "Price/PriceAmount", "LineExtensionAmount")
_UBL_CREDIT_LINE = ("Item/Name", "CreditedQuantity", "Price/PriceAmount", "LineExtensionAmount")


def _single_rate(rates: list[str]) -> str | None:
    """The invoice's tax rate when all tax breakdowns share one; mixed rates have no single answer."""
    distinct = {plain_number(Decimal(rate)) for rate in rates if _money(rate) is not None}
    return distinct.pop() if len(distinct) == 1 else None


def _amount_in(nodes: list[Element], currency: str | None) -> str | None:
    """An amount, preferring the element in the invoice currency (CII may repeat tax totals per currency)."""
    preferred = [n for n in nodes if n.get("currencyID") in (None, currency)] or nodes
    for node in preferred:
        value = _money(" ".join((node.text or "").split()))
        if value is not None:
            return value
    return None


# UNTDID 1001 document types EN 16931 counts as credit notes (BT-3): credit note, self-billed, consolidated,
# price-variation, delegated, factored and forwarder's credit notes, and the related financial adjustments.
CREDIT_NOTE_TYPE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})
TOTALS = ("net_total", "tax_total", "grand_total")


def signed_totals(values: dict[str, Any], type_code: str | None) -> dict[str, Any]:
    """``values`` with a credit note's positive totals made negative (see the module docstring); others as given.

    A total the XML already writes negative (a corrective invoice, or a credit note stated the other way) is
    left alone, so applying this twice changes nothing.
    """
    if (type_code or "").strip() not in CREDIT_NOTE_TYPE_CODES:
        return values
    return {name: _negative(value) if name in TOTALS else value for name, value in values.items()}


def _negative(value: Any) -> Any:
    if value is None or value == "":
        return value
    amount = Decimal(str(value))
    return str(-amount) if amount > 0 else str(amount)


# --- CII: ZUGFeRD 1.0 (CrossIndustryDocument) and D16B (CrossIndustryInvoice) ------------------------------


# Element names that differ between ZUGFeRD 1.0 and D16B: document, transaction, agreement, settlement,
# monetary summation, tax rate.
_CII_NAMES = {
    "CrossIndustryDocument": (
        "HeaderExchangedDocument",
        "SpecifiedSupplyChainTradeTransaction",
        "ApplicableSupplyChainTradeAgreement",
        "ApplicableSupplyChainTradeSettlement",
        "SpecifiedTradeSettlementMonetarySummation",
        "ApplicablePercent",
    ),
    "CrossIndustryInvoice": (
        "ExchangedDocument",
        "SupplyChainTradeTransaction",
        "ApplicableHeaderTradeAgreement",
        "ApplicableHeaderTradeSettlement",
        "SpecifiedTradeSettlementHeaderMonetarySummation",
        "RateApplicablePercent",
    ),
}


def _read_cii(root: Element) -> dict[str, Any]:
    names = _CII_NAMES[etree.QName(root).localname]
    document_name, transaction_name, agreement_name, settlement_name, summary_name, rate_name = names
    document = _one(root, document_name)
    transaction = _one(root, transaction_name)
    agreement = _one(transaction, agreement_name)
    settlement = _one(transaction, settlement_name)
    summary = _one(settlement, summary_name)
    seller = _one(agreement, "SellerTradeParty")
    currency = _text(settlement, "InvoiceCurrencyCode")
    values = {
        "invoice_number": _text(document, "ID"),
        "issue_date": _cii_date(_one(document, "IssueDateTime")),
        "due_date": _cii_date(_one(settlement, "SpecifiedTradePaymentTerms/DueDateDateTime")),
        "seller_name": _text(seller, "Name"),
        "seller_vat_id": _cii_vat_id(seller),
        "seller_address": _address(
            _one(seller, "PostalTradeAddress"), "LineOne", "LineTwo", "PostcodeCode", "CityName"
        ),
        "buyer_name": _text(_one(agreement, "BuyerTradeParty"), "Name"),
        "iban": _text(settlement, "SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID"),
        "currency": currency,
        "line_items": [_line(item, _CII_LINE) for item in _all(transaction, "IncludedSupplyChainTradeLineItem")],
        "net_total": _amount_in(_all(summary, "TaxBasisTotalAmount"), currency),
        "tax_rate": _single_rate([r.text or "" for r in _all(settlement, f"ApplicableTradeTax/{rate_name}")]),
        "tax_total": _amount_in(_all(summary, "TaxTotalAmount"), currency),
        "grand_total": _amount_in(_all(summary, "GrandTotalAmount"), currency),
    }
    return signed_totals(values, _text(document, "TypeCode"))


def _cii_vat_id(party: Element | None) -> str | None:
    for registration in _all(party, "SpecifiedTaxRegistration/ID"):
        if registration.get("schemeID") == "VA" and (registration.text or "").strip():
            return registration.text.strip()
    return None


# --- UBL 2.1 Invoice and CreditNote --------------------------------------------------------------------------


def _read_ubl(root: Element) -> dict[str, Any]:
    supplier = _one(root, "AccountingSupplierParty/Party")
    totals = _one(root, "LegalMonetaryTotal")
    currency = _text(root, "DocumentCurrencyCode")
    values = {
        "invoice_number": _text(root, "ID"),
        "issue_date": _iso_date(_text(root, "IssueDate")),
        "due_date": _iso_date(_text(root, "DueDate") or _text(root, "PaymentMeans/PaymentDueDate")),
        "seller_name": _text(supplier, "PartyLegalEntity/RegistrationName") or _text(supplier, "PartyName/Name"),
        "seller_vat_id": _text(supplier, "PartyTaxScheme/CompanyID"),
        "seller_address": _address(
            _one(supplier, "PostalAddress"), "StreetName", "AdditionalStreetName", "PostalZone", "CityName"
        ),
        "buyer_name": _text(root, "AccountingCustomerParty/Party/PartyLegalEntity/RegistrationName")
        or _text(root, "AccountingCustomerParty/Party/PartyName/Name"),
        "iban": _text(root, "PaymentMeans/PayeeFinancialAccount/ID"),
        "currency": currency,
        "line_items": [_line(line, _UBL_LINE) for line in _all(root, "InvoiceLine")]
        + [_line(line, _UBL_CREDIT_LINE) for line in _all(root, "CreditNoteLine")],
        "net_total": _amount_in(_all(totals, "TaxExclusiveAmount"), currency),
        "tax_rate": _single_rate([r.text or "" for r in _all(root, "TaxTotal/TaxSubtotal/TaxCategory/Percent")]),
        "tax_total": _amount_in(_all(root, "TaxTotal/TaxAmount"), currency),
        "grand_total": _amount_in(_all(totals, "TaxInclusiveAmount"), currency),
    }
    credit_note = etree.QName(root).localname == "CreditNote"
    type_code = _text(root, "CreditNoteTypeCode") or ("381" if credit_note else _text(root, "InvoiceTypeCode"))
    return signed_totals(values, type_code)


_READERS: dict[str, Callable[[Element], dict[str, Any]]] = {
    "CrossIndustryDocument": _read_cii,
    "CrossIndustryInvoice": _read_cii,
    "Invoice": _read_ubl,
    "CreditNote": _read_ubl,
}


# --- cross-check against the visible text -------------------------------------------------------------------


def _identifier(value: Any) -> str:
    return re.sub(r"[\s./-]", "", str(value)).upper()


def _words(value: Any) -> str:
    return " ".join(str(value).casefold().split())


def _decimal(value: Any) -> Decimal | str:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return _words(value)


# How each compared field is normalised before equality. Addresses and line items are not compared:
# their visible layout legitimately differs from the XML (line breaks, abbreviations, wrapped descriptions).
COMPARED_FIELDS: dict[str, Callable[[Any], Any]] = {
    "invoice_number": _identifier,
    "issue_date": str,
    "due_date": str,
    "seller_name": _words,
    "seller_vat_id": _identifier,
    "buyer_name": _words,
    "iban": _identifier,
    "currency": _identifier,
    "net_total": _decimal,
    "tax_rate": _decimal,
    "tax_total": _decimal,
    "grand_total": _decimal,
}


# Fields whose page reading may be a part of the XML value without contradicting it: XML packs a name with its
# GLN and customer number into one element, or an invoice number with a suffix the page prints elsewhere.
_PARTIAL_FIELDS = {"invoice_number", "seller_name", "buyer_name"}
_MIN_PART = 4
# What every legible invoice prints: an XML amount due that appears nowhere on the page is a finding even when the
# text tiers could not read a total (an attacker need not leave the page readable).
_ALWAYS_PRINTED = {"grand_total"}


def _agrees(name: str, xml: Any, text: Any) -> bool:
    normalise = COMPARED_FIELDS[name]
    if normalise(xml) == normalise(text):
        return True
    if name not in _PARTIAL_FIELDS:
        return False
    part, whole = str(normalise(text)), str(normalise(xml))
    return len(part) >= _MIN_PART and part in whole


def cross_check(
    xml_fields: dict[str, ExtractedField], text_fields: dict[str, ExtractedField], page_text: str
) -> list[Finding]:
    """One ``EINVOICE_MISMATCH`` per field whose XML value the page does not show.

    The rules tier picks one candidate per field, and an honest page often
    prints several (an order date beside the issue date, a net line total
    beside the net total): comparing readings would flag what is merely a
    choice. So a field is a mismatch only when the XML value occurs nowhere in
    ``page_text`` in any printed form (``printed.is_printed``: every locale's
    number style, every date style, identifiers without spaces, any case) and
    the text tiers read a different value for it (or, for the amount due,
    read none). Otherwise a field the text tiers could not read is not a
    mismatch: absence is ``MISSING_FIELD``'s business. Messages name the
    field, never the values.
    """
    findings = []
    for name in COMPARED_FIELDS:
        xml, text = xml_fields.get(name), text_fields.get(name)
        if xml is None or xml.value is None or is_printed(name, str(xml.value), page_text):
            continue
        read = text is not None and text.value is not None
        if (read and _agrees(name, xml.value, text.value)) or (not read and name not in _ALWAYS_PRINTED):
            continue
        where = f" (page {text.page})" if read and text.page else ""
        findings.append(
            Finding(
                code="EINVOICE_MISMATCH",
                message=f"{name}: the embedded e-invoice XML value is not printed on the page{where}",
                fields=[name],
            )
        )
    return findings
