"""The e-invoice tier against the ZUGFeRD/Factur-X corpus, hostile XML, UBL, and the cross-check."""

from __future__ import annotations

import hashlib
import json
import re
import runpy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from docval.domain import ExtractedField, Tier
from docval.settings import ExtractSettings, Settings
from extractors.einvoice import CREDIT_NOTE_TYPE_CODES, cross_check, parse_einvoice
from extractors.evaluate import ZUGFERD_TRUTH_FIELDS
from extractors.extract import extract
from extractors.pdf import EINVOICE_ATTACHMENTS, IngestError, load_pdf
from extractors.router import Router
from extractors.samples import write_sample_inbox

# ground_truth.json key -> our field name: the evaluation's, with the IBAN as the XML writes it
TRUTH_KEYS = {theirs: ours for theirs, ours in ZUGFERD_TRUTH_FIELDS.items() if ours != "iban"} | {"iban": "iban"}
NOT_WELL_FORMED = {"factur-x-invalid-xml-encoding-attribute.pdf"}  # a corpus "fail" sample


def _truth(shared_data: Path) -> list[dict[str, Any]]:
    return json.loads((shared_data / "zugferd" / "ground_truth.json").read_text())


def _same(expected: str, got: Any) -> bool:
    if isinstance(got, str) and expected.lstrip("-").replace(".", "", 1).isdigit():
        return Decimal(expected) == Decimal(got)
    return " ".join(expected.split()) == got


def _expected(entry: dict[str, Any], truth_key: str) -> str | None:
    """The corpus truth as docval states it: a credit note's totals (positive in its XML) negative."""
    value = entry.get(truth_key)
    credit_note = entry.get("type_code") in CREDIT_NOTE_TYPE_CODES
    if value is None or not credit_note or TRUTH_KEYS[truth_key] not in {"net_total", "tax_total", "grand_total"}:
        return value
    return str(-abs(Decimal(value)))


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
            expected = _expected(entry, truth_key)
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


def test_a_rate_of_twenty_percent_reads_twenty() -> None:
    twenty = UBL.replace(b"<cbc:Percent>19</cbc:Percent>", b"<cbc:Percent>20.00</cbc:Percent>")
    assert parse_einvoice(twenty)["tax_rate"].value == "20"  # not Decimal's normal form '2E+1'


def test_ubl_credit_note_states_its_totals_negative() -> None:
    credit_note = (
        UBL.replace(
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
            b'<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"',
        )
        .replace(b"</Invoice>", b"</CreditNote>")
        .replace(b"InvoiceLine>", b"CreditNoteLine>")
        .replace(b"InvoicedQuantity", b"CreditedQuantity")
    )
    values = {name: field.value for name, field in parse_einvoice(credit_note).items()}
    assert (values["net_total"], values["tax_total"], values["grand_total"]) == ("-100.00", "-19.00", "-119.00")
    assert values["line_items"] == [
        {"description": "Widget", "quantity": "2", "unit_price": "50.00", "amount": "100.00"}
    ]
    assert values["invoice_number"] == "UBL-42"


def test_a_cii_credit_note_agrees_with_its_page(shared_data: Path, tmp_path: Path) -> None:
    """The French type-381 avoir prints '-218,48 €'; its XML states the magnitudes: both readings now agree."""
    entry = next(e for e in _truth(shared_data) if e.get("type_code") == "381")
    document = load_pdf(shared_data / "zugferd" / entry["pdf"], ExtractSettings(ocr_enabled=False))
    xml = parse_einvoice(document.einvoice_xml or b"")
    assert Decimal(xml["grand_total"].value) == -Decimal(entry["grand_total"]) < 0
    assert Decimal(xml["net_total"].value) == -Decimal(entry["tax_basis_total"]) < 0
    router = Router.rules_only(Settings(data_dir=tmp_path))
    page = extract(document, router, einvoice=False)
    assert page.fields["net_total"].value == xml["net_total"].value
    assert not [f for f in extract(document, router).findings if f.code == "EINVOICE_MISMATCH"]


def test_an_invoice_keeps_positive_totals_whatever_its_type_code() -> None:
    for code in ("380", "384", "389", None):
        xml = (
            UBL.replace(
                b"<cbc:ID>UBL-42</cbc:ID>",
                f"<cbc:ID>UBL-42</cbc:ID><cbc:InvoiceTypeCode>{code}</cbc:InvoiceTypeCode>".encode(),
            )
            if code
            else UBL
        )
        assert parse_einvoice(xml)["grand_total"].value == "119.00", code
    credit = UBL.replace(
        b"<cbc:ID>UBL-42</cbc:ID>", b"<cbc:ID>UBL-42</cbc:ID><cbc:InvoiceTypeCode>381</cbc:InvoiceTypeCode>"
    )
    assert parse_einvoice(credit)["grand_total"].value == "-119.00"


def _fields(tier: Tier, **values: Any) -> dict[str, ExtractedField]:
    return {
        k: ExtractedField(value=v, confidence=1.0 if tier == Tier.EINVOICE else 0.9, tier=tier, page=1)
        for k, v in values.items()
    }


def test_cross_check_flags_only_xml_values_the_page_does_not_print() -> None:
    xml = parse_einvoice(UBL)
    page = (
        "Seller GmbH, Hauptstr. 1, 10115 Berlin\nTo: Buyer AG\nInvoice UBL-42 of 01.03.2026, order of 20.02.2026\n"
        "IBAN DE89 3704 0044 0532 0130 00\nWidget 2 x 50,00 = 100,00\nNet 100,00 VAT 19 % 19,00 Total 119,00 EUR"
    )
    same_but_formatted = _fields(
        Tier.RULES, invoice_number="ubl-42", iban="DE89 3704 0044 0532 0130 00", grand_total="119.0"
    )
    assert cross_check(xml, same_but_formatted, page) == []
    # The rules picked another candidate the page also prints (the order date, a line amount): the XML value is
    # printed too, so this is a reading choice, not an alteration.
    other_candidates = _fields(Tier.RULES, issue_date="2026-02-20", net_total="50.00", buyer_name="Seller GmbH")
    assert cross_check(xml, other_candidates, page) == []

    altered_page = page.replace("DE89 3704 0044 0532 0130 00", "DE02 1203 0000 0000 2020 51").replace(
        "119,00", "1190,00"
    )
    altered = _fields(Tier.RULES, iban="DE02120300000000202051", grand_total="1190.00", currency="EUR")
    findings = cross_check(xml, altered, altered_page)
    assert sorted(f.fields[0] for f in findings) == ["grand_total", "iban"]
    assert all(f.code == "EINVOICE_MISMATCH" for f in findings)
    assert all("DE02" not in f.message and "1190" not in f.message for f in findings)
    # An unread field is MISSING_FIELD's business, except the amount due, which every legible invoice prints.
    assert [f.fields for f in cross_check(xml, {}, altered_page)] == [["grand_total"]]
    assert cross_check(xml, {}, page) == []


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
    findings = cross_check(xml_fields, page_fields, document.text)
    assert [(f.code, f.fields) for f in findings] == [("EINVOICE_MISMATCH", ["iban"])]


HONEST_BUT_FLAGGED_BEFORE = [  # rules read another candidate or a part of a packed XML value; the page prints the XML's
    "zugferd/pdfs/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_BASIC_Rechnungskorrektur.pdf",
    "zugferd/pdfs/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_COMFORT_Kraftfahrversicherung_Bruttopreise.pdf",
    "zugferd/pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Haftpflichtversicherung_Versicherungssteuer.pdf",
    "einvoice-train/pdfs/ahelmberger__factur-x-kit/test/pdfs/createdPDFs/PDF_DESIGN_DE.pdf",
]


@pytest.mark.parametrize("name", HONEST_BUT_FLAGGED_BEFORE)
def test_honest_einvoices_are_quiet(shared_data: Path, tmp_path: Path, name: str) -> None:
    document = load_pdf(shared_data / name, ExtractSettings(ocr_enabled=False))
    findings = extract(document, Router.rules_only(Settings(data_dir=tmp_path))).findings
    assert [f.fields for f in findings if f.code == "EINVOICE_MISMATCH"] == []


ALTERED = [  # (corpus PDF, field whose printed value is rewritten after the XML was embedded)
    ("pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf", "grand_total"),
    ("pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf", "invoice_number"),
    ("pdfs/ZUGFeRDv2/correct/FNFE-factur-x-examples/Facture_FR_BASICWL.pdf", "iban"),
    ("pdfs/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_COMFORT_Rabatte.pdf", "grand_total"),
]


@pytest.fixture(scope="module")
def alter_pdf() -> Any:
    return runpy.run_path(str(Path(__file__).resolve().parents[2] / "benchmarks" / "einvoice_bench.py"))["alter_pdf"]


@pytest.mark.parametrize(("name", "field"), ALTERED)
def test_real_einvoice_with_a_page_altered_after_embedding_is_caught(
    shared_data: Path, tmp_path: Path, alter_pdf: Any, name: str, field: str
) -> None:
    """A real e-invoice is quiet as published and raises EINVOICE_MISMATCH once one printed value is rewritten."""
    router = Router.rules_only(Settings(data_dir=tmp_path / "var"))
    limits = ExtractSettings(ocr_enabled=False)
    honest = load_pdf(shared_data / "zugferd" / name, limits)
    assert [f for f in extract(honest, router).findings if f.code == "EINVOICE_MISMATCH"] == []
    value = str(parse_einvoice(honest.einvoice_xml or b"")[field].value)
    assert alter_pdf(shared_data / "zugferd" / name, tmp_path / "altered.pdf", field, value) > 0
    altered = load_pdf(tmp_path / "altered.pdf", limits)
    assert altered.einvoice_xml == honest.einvoice_xml  # the XML is untouched; only the page changed
    assert altered.text != honest.text
    findings = [f for f in extract(altered, router).findings if f.code == "EINVOICE_MISMATCH"]
    assert [f.fields for f in findings] == [[field]]


def test_small_einvoice_benchmark_run(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = runpy.run_path(str(Path(__file__).resolve().parents[2] / "benchmarks" / "einvoice_bench.py"))
    results = bench["main"](["--limit", "2"])
    assert results["honest"] == 2 and results["altered"] >= 3
    assert results["altered_caught"] == results["altered"] and results["honest_flagged"] == 0
    assert "raise EINVOICE_MISMATCH" in capsys.readouterr().out
