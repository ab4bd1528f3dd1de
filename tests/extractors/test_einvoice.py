"""The e-invoice tier against the ZUGFeRD/Factur-X corpus, hostile XML, UBL, and the cross-check."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from docval.domain import ExtractedField, Tier
from docval.settings import ExtractSettings
from extractors.einvoice import cross_check, parse_einvoice
from extractors.pdf import EINVOICE_ATTACHMENTS, IngestError, load_pdf
from extractors.samples import write_sample_inbox

# ground_truth.json key -> our field name
TRUTH_KEYS = {
    "invoice_id": "invoice_number",
    "issue_date": "issue_date",
    "seller_name": "seller_name",
    "seller_vat_id": "seller_vat_id",
    "buyer_name": "buyer_name",
    "currency": "currency",
    "iban": "iban",
    "grand_total": "grand_total",
    "tax_total": "tax_total",
    "tax_basis_total": "net_total",
}
NOT_WELL_FORMED = {"factur-x-invalid-xml-encoding-attribute.pdf"}  # a corpus "fail" sample


def _truth(shared_data: Path) -> list[dict[str, Any]]:
    return json.loads((shared_data / "zugferd" / "ground_truth.json").read_text())


def _same(expected: str, got: Any) -> bool:
    if isinstance(got, str) and expected.replace(".", "", 1).isdigit():
        return Decimal(expected) == Decimal(got)
    return " ".join(expected.split()) == got


def test_every_corpus_xml_matches_ground_truth(shared_data: Path) -> None:
    entries = [e for e in _truth(shared_data) if e.get("xml_file")]
    assert len(entries) >= 55
    compared = 0
    for entry in entries:
        xml = (shared_data / "zugferd" / entry["xml_file"]).read_bytes()
        if Path(entry["pdf"]).name in NOT_WELL_FORMED:
            with pytest.raises(IngestError):
                parse_einvoice(xml)
            continue
        fields = parse_einvoice(xml)
        assert all(f.tier == Tier.EINVOICE and f.confidence == 1.0 for f in fields.values())
        for truth_key, name in TRUTH_KEYS.items():
            expected = entry.get(truth_key)
            if expected is None:
                assert name not in fields, (entry["pdf"], name)
            else:
                assert _same(expected, fields[name].value), (entry["pdf"], name)
                compared += 1
    assert compared >= 400


def test_attachment_comes_out_of_the_pdf_byte_for_byte(shared_data: Path) -> None:
    limits = ExtractSettings(ocr_enabled=False)
    for entry in _truth(shared_data):
        document = load_pdf(shared_data / "zugferd" / entry["pdf"], limits)
        if (entry.get("xml_attachment") or "").lower() in EINVOICE_ATTACHMENTS:
            assert document.einvoice_xml is not None, entry["pdf"]
            assert hashlib.sha256(document.einvoice_xml).hexdigest() == entry["xml_sha256"], entry["pdf"]
        assert document.pages[0].source == "text"


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<CrossIndustryInvoice><ExchangedDocument><ID>&b;</ID></ExchangedDocument></CrossIndustryInvoice>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<CrossIndustryInvoice><ExchangedDocument><ID>&x;</ID></ExchangedDocument></CrossIndustryInvoice>",
        b"<CrossIndustryInvoice><unclosed></CrossIndustryInvoice>",
        b"<html><body>not an invoice</body></html>",
    ],
    ids=["billion-laughs", "xxe", "not-well-formed", "wrong-root"],
)
def test_hostile_or_foreign_xml_is_refused(xml: bytes) -> None:
    with pytest.raises(IngestError) as caught:
        parse_einvoice(xml)
    assert caught.value.code == "EINVOICE_INVALID"
    assert "passwd" not in str(caught.value) and "aaaa" not in str(caught.value)


UBL = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>UBL-42</cbc:ID><cbc:IssueDate>2026-03-01</cbc:IssueDate><cbc:DueDate>2026-03-31</cbc:DueDate>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:AccountingSupplierParty><cac:Party>
  <cac:PostalAddress><cbc:StreetName>Hauptstr. 1</cbc:StreetName><cbc:CityName>Berlin</cbc:CityName>
   <cbc:PostalZone>10115</cbc:PostalZone></cac:PostalAddress>
  <cac:PartyTaxScheme><cbc:CompanyID>DE136695976</cbc:CompanyID></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>Seller GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Buyer AG</cbc:Name></cac:PartyName>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:PaymentMeans><cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID></cac:PayeeFinancialAccount>
 </cac:PaymentMeans>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">19.00</cbc:TaxAmount><cac:TaxSubtotal><cac:TaxCategory>
  <cbc:Percent>19</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
  <cbc:TaxInclusiveAmount currencyID="EUR">119.00</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>
 <cac:InvoiceLine><cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Widget</cbc:Name></cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount>
  </cac:Price></cac:InvoiceLine>
</Invoice>"""


def test_ubl_invoice() -> None:
    values = {name: field.value for name, field in parse_einvoice(UBL).items()}
    assert values == {
        "invoice_number": "UBL-42",
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
        "seller_name": "Seller GmbH",
        "seller_vat_id": "DE136695976",
        "seller_address": "Hauptstr. 1, 10115 Berlin",
        "buyer_name": "Buyer AG",
        "iban": "DE89370400440532013000",
        "currency": "EUR",
        "line_items": [{"description": "Widget", "quantity": "2", "unit_price": "50.00", "amount": "100.00"}],
        "net_total": "100.00",
        "tax_rate": "19",
        "tax_total": "19.00",
        "grand_total": "119.00",
    }


def _fields(tier: Tier, **values: Any) -> dict[str, ExtractedField]:
    return {
        k: ExtractedField(value=v, confidence=1.0 if tier == Tier.EINVOICE else 0.9, tier=tier, page=1)
        for k, v in values.items()
    }


def test_cross_check_flags_an_altered_page_and_tolerates_formatting() -> None:
    xml = parse_einvoice(UBL)
    same_but_formatted = _fields(
        Tier.RULES,
        invoice_number="ubl-42",
        iban="DE89 3704 0044 0532 0130 00",
        grand_total="119.0",
        seller_name="SELLER  GmbH",
        seller_address="Hauptstrasse 1\n10115 Berlin",  # addresses are not compared
    )
    assert cross_check(xml, same_but_formatted) == []
    altered = _fields(Tier.RULES, iban="DE02120300000000202051", grand_total="1190.00", currency="EUR")
    findings = cross_check(xml, altered)
    assert sorted(f.fields[0] for f in findings) == ["grand_total", "iban"]
    assert all(f.code == "EINVOICE_MISMATCH" for f in findings)
    assert all("DE02" not in f.message and "1190" not in f.message for f in findings)
    assert cross_check(xml, {}) == []  # unread text fields are not mismatches


def test_altered_sample_einvoice_is_caught(tmp_path: Path) -> None:
    """The sample whose page shows another IBAN than its XML: the XML gives the truth, the page a mismatch."""
    docs = write_sample_inbox(tmp_path, count=14)
    sample = next(d for d in docs if d.defect == "einvoice_page_altered")
    document = load_pdf(tmp_path / sample.file, ExtractSettings())
    assert document.einvoice_name == "factur-x.xml" and document.einvoice_xml is not None
    xml_fields = parse_einvoice(document.einvoice_xml)
    assert {name: field.value for name, field in xml_fields.items()} == sample.fields
    printed_iban = re.search(r"IBAN: ([A-Z]{2}[0-9 ]+)", document.text)
    assert printed_iban is not None
    page_fields = _fields(Tier.RULES, iban=printed_iban.group(1).strip(), grand_total=sample.fields["grand_total"])
    findings = cross_check(xml_fields, page_fields)
    assert [(f.code, f.fields) for f in findings] == [("EINVOICE_MISMATCH", ["iban"])]
