"""Classification and the rules tier on small multilingual texts and on the synthetic sample inbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from docval.domain import DocKind, Tier
from docval.settings import Settings
from extractors.classify import classify
from extractors.evaluate import matches
from extractors.extract import extract
from extractors.pdf import load_pdf
from extractors.router import Router
from extractors.rules import Page, extract_rules
from extractors.samples import write_sample_inbox

GERMAN = """Lieferant GmbH
Lieferantenstraße 20 RECHNUNG
80333 München Rechnungsnummer 471102
Deutschland Rechnungsdatum 05.03.2013
Zahlbar bis 04.04.2013
Rechnungssumme Netto (excl. USt.) 198,00
Steuerbasisbetrag USt. 19% 198,00 37,62
Rechnungssumme Brutto (inkl. USt.) 235,62
USt.-Identnr.: DE123456789
IBAN-Nr.: DE08 7009 0100 1234 5678 90
"""
FRENCH = """ALEXINUX
Facture n° 2022089083
Date : 28/11/2022
Total HT : 46,68 €
TVA 20% : 9,34 €
Total TTC : 56,02 €
IBAN : FR76 1010 7002 4500 6170 5231 739 - BIC : BREDFRPP
"""
ENGLISH_GLUED = """FACTUUR.
Coolblue B.V.
NL810433941B01BTW
NL50INGB0683251309IBAN
993548900Factuurnummer:
6669263Klantnummer:
19 april 2014Factuurdatum:
Subtotaal € 717,97Exclusief BTW € 593,36
BTW 21% € 124,61
Totaal
 € 717,97
"""
COLUMNS = """Warenwert  Zu-/Abschlag  Nettobetrag    MwSt-Betrag  MwSt-%     Endbetrag
   326,50      -8,10          321,40          61,07   19,0          382,47
   457,20     -11,21          448,99          70,00    EUR          518,99
"""
KYC = """Customer Onboarding Form (KYC)
Full name: Erika Musterfrau
Date of birth: 1980-04-12
Address: Gartenweg 7, 12345 Musterstadt
Email: erika@example.com
Phone: +49 30 1234567
Passport number: C01X00T47
National ID: T22000129
IBAN: DE89 3704 0044 0532 0130 00
Nationality: German
"""


def values(text: str, kind: DocKind = DocKind.INVOICE) -> dict[str, object]:
    return {name: field.value for name, field in extract_rules([Page(1, text)], kind).items()}


def test_classification() -> None:
    assert classify([GERMAN]).kind is DocKind.INVOICE
    assert classify([FRENCH]).kind is DocKind.INVOICE
    assert classify([KYC]).kind is DocKind.KYC_FORM
    other = classify(["Minutes of the meeting of the garden club. Apples were discussed."])
    assert other.kind is DocKind.OTHER and other.confidence > 0.5
    strong, weak = classify([GERMAN * 2]), classify(["Rechnung"])
    assert strong.confidence > 0.5 and weak.kind is DocKind.OTHER


def test_german_invoice() -> None:
    got = values(GERMAN)
    assert got["invoice_number"] == "471102"
    assert (got["issue_date"], got["due_date"]) == ("2013-03-05", "2013-04-04")
    assert (got["net_total"], got["tax_total"], got["grand_total"]) == ("198.00", "37.62", "235.62")
    assert got["seller_vat_id"] == "DE123456789" and got["iban"] == "DE08700901001234567890"
    assert got["seller_name"] == "Lieferant GmbH" and got["tax_rate"] == "19"


def test_french_invoice() -> None:
    got = values(FRENCH)
    assert got["invoice_number"] == "2022089083" and got["issue_date"] == "2022-11-28"
    assert (got["net_total"], got["tax_total"], got["grand_total"]) == ("46.68", "9.34", "56.02")
    assert got["currency"] == "EUR" and got["iban"] == "FR7610107002450061705231739"


def test_values_glued_before_their_labels() -> None:
    got = values(ENGLISH_GLUED)
    assert got["invoice_number"] == "993548900" and got["issue_date"] == "2014-04-19"
    assert got["iban"] == "NL50INGB0683251309" and got["seller_vat_id"] == "NL810433941B01"
    assert (got["net_total"], got["tax_total"], got["grand_total"]) == ("593.36", "124.61", "717.97")


def test_column_headers_take_the_values_below_them() -> None:
    got = values(COLUMNS)
    assert (got["net_total"], got["tax_total"], got["grand_total"]) == ("448.99", "70.00", "518.99")


def test_spans_point_at_the_value_and_confidence_reflects_how_it_was_found() -> None:
    fields = extract_rules([Page(3, GERMAN)], DocKind.INVOICE)
    for name in ("invoice_number", "iban", "grand_total"):
        field = fields[name]
        assert field.tier is Tier.RULES and field.page == 3
        start, end = field.span
        printed = GERMAN[start:end]
        assert matches(name, str(field.value), printed.replace(",", ".") if name == "grand_total" else printed)
    assert fields["grand_total"].confidence >= 0.95  # reconciled: net + tax = grand


def test_kyc_form() -> None:
    got = values(KYC, DocKind.KYC_FORM)
    assert got == {
        "full_name": "Erika Musterfrau",
        "date_of_birth": "1980-04-12",
        "address": "Gartenweg 7, 12345 Musterstadt",
        "email": "erika@example.com",
        "phone": "+49 30 1234567",
        "passport_number": "C01X00T47",
        "national_id": "T22000129",
        "iban": "DE89370400440532013000",
    }


def test_other_documents_have_no_fields() -> None:
    assert extract_rules([Page(1, GERMAN)], DocKind.OTHER) == {}


def test_sample_inbox_is_read_completely(tmp_path: Path, settings: Settings) -> None:
    """Synthetic invoices and KYC forms with ground truth (extractors.samples): kind and every scalar field."""
    docs = write_sample_inbox(tmp_path, count=20, seed=3)
    router = Router.rules_only(settings)
    checked = wrong = 0
    for doc in docs:
        if doc.ingest_error or doc.ocr:
            continue
        extraction = extract(load_pdf(tmp_path / doc.file, settings.extract), router)
        assert extraction.kind is doc.kind, doc.file
        for name, expected in doc.fields.items():
            if name == "line_items" or expected is None:
                continue
            got = extraction.fields.get(name)
            checked += 1
            wrong += got is None or not matches(name, str(got.value), str(expected))
    assert checked > 150 and wrong / checked <= 0.02


@pytest.mark.parametrize("kind", [DocKind.INVOICE, DocKind.KYC_FORM])
def test_empty_pages_give_no_fields(kind: DocKind) -> None:
    assert extract_rules([Page(1, "")], kind) == {}
    assert extract_rules([], kind) == {}
