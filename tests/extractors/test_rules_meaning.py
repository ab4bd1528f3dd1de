"""Label meaning in six languages: other dates are not the issue date, a corrected invoice's number (or the
buyer's routing reference) is not ours.

Each page prints the distractor before the real value, in the label styles of
EN/DE/FR/NL/IT/ES invoices, so picking the first date or number after a
generic label ("Date", "vom", "Rechnung Nr.") would be wrong.
"""

from __future__ import annotations

import pytest

from docval.domain import DocKind
from extractors.classify import classify
from extractors.rules import Page, extract_rules

DATES = {
    "en": "INVOICE\nOrder date: 02/03/2026\nDelivery date: 04/03/2026\nInvoice date: 09/03/2026\nDue date: 08/04/2026",
    "de": "RECHNUNG\nIhre Bestellung vom 02.03.2026\nLieferdatum 04.03.2026\nDatum 09.03.2026\nFällig am 08.04.2026",
    "fr": "FACTURE\nDate de commande : 02/03/2026\nDate de livraison : 04/03/2026\nDate : 09/03/2026\n"
    "Date d'échéance : 08/04/2026",
    "nl": "FACTUUR\nUw bestelling van 02-03-2026\nLeverdatum 04-03-2026\nDatum 09-03-2026\nVervaldatum 08-04-2026",
    "it": "FATTURA\nData ordine 02/03/2026\nData di consegna 04/03/2026\nData 09/03/2026\nData scadenza 08/04/2026",
    "es": "FACTURA\nFecha de pedido 02/03/2026\nFecha de entrega 04/03/2026\nFecha 09/03/2026\n"
    "Fecha de vencimiento 08/04/2026",
}


@pytest.mark.parametrize("language", sorted(DATES))
def test_issue_date_is_told_from_order_delivery_and_due_dates(language: str) -> None:
    text = DATES[language]
    fields = extract_rules([Page(1, text)], DocKind.INVOICE)
    assert fields["issue_date"].value == "2026-03-09"
    assert fields["due_date"].value == "2026-04-08"


def test_a_service_period_is_not_the_issue_date() -> None:
    text = "Rechnung\nLeistungszeitraum 01.02.2026 - 28.02.2026\nRechnungsnummer R-77\nvom 03.03.2026"
    assert extract_rules([Page(1, text)], DocKind.INVOICE)["issue_date"].value == "2026-03-03"


# Supply dates and "pay by" verbs, captioned before the issue date (a generic "Date" label reads both)
SUPPLY_AND_PAY_BY = [
    "INVOICE\nDate of supply: 04/03/2026\nDate: 09/03/2026",
    "FACTURE\nDate de fourniture : 04/03/2026\nÀ payer avant le 08/04/2026\nDate : 09/03/2026",
    "FACTUUR\nTe betalen voor 08-04-2026\nDatum 09-03-2026",
    "FATTURA\nData di fornitura 04/03/2026\nDa pagare entro 08/04/2026\nData 09/03/2026",
    "FACTURA\nFecha de suministro: 04-03-2026\nPagar antes de: 08-04-2026\nFecha: 09-03-2026",
]


def _columns(*rows: tuple[str, ...], width: int = 30) -> str:
    """Rows of cells padded to fixed columns, as pypdf's layout view prints a table or a header row."""
    return "\n".join("".join(cell.ljust(width) for cell in row).rstrip() for row in rows)


# Layout views: a caption padded far from its value on the line, and header rows over their values
LAYOUT_VIEWS = [
    "INVOICE\n" + _columns(("Delivery date:", "", "04/03/2026"), ("Date:", "", "09/03/2026")),
    "RECHNUNG\n" + _columns(("Ihre Bestellung vom:", "", "02.03.2026"), ("Datum:", "", "09.03.2026")),
    "RECHNUNG\n"
    + _columns(
        ("Datum", "Rechnungs-Nr.", "Fälligkeitsdatum", "Leistungsdatum"),
        ("09.03.2026", "7056116", "08.04.2026", "04.03.2026"),
    ),
    "RECHNUNG\n"
    + _columns(
        ("Rechnungs-Nr.", "Leistungszeitraum", "Kd.-Nr.", "Datum"),
        ("FA-4357011", "01.03.2026 - 04.03.2026", "191619", "09.03.2026"),
    ),
    "FACTURE\n"
    + _columns(
        ("Facture n°", "Date", "Date de livraison", "Échéance"), ("RE2723870", "09/03/2026", "04/03/2026", "08/04/2026")
    ),
]


CORRECTIONS = [
    "Rechnungskorrektur Nr. RK-2026-17\nKorrektur zu Rechnung Nr. RE-2026-05 vom 02.02.2026",
    "Credit note no. CN-2026-17\nThis credit note corrects invoice no. INV-2026-05",
    "AVOIR n° AV-2026-17\nAvoir sur facture n° FA-2026-05",
    "CREDITNOTA\nFactuurnummer CN-2026-17\nCorrectie op factuurnummer F-2026-05",
    "NOTA DI CREDITO\nNumero fattura NC-2026-17\nRiferimento fattura n. FT-2026-05",
    "FACTURA RECTIFICATIVA\nNúmero de factura R-2026-17\nRectifica la factura nº F-2026-05",
    # the buyer's routing reference (EN 16931 BT-10) printed first, under the same generic "No." label
    "RECHNUNG\nLeitweg-ID Nr. 04011000-12345-34\nNr. 2026-17 vom 05.03.2026",
    "INVOICE\nBuyer reference no. PO-88123\nNo. 2026-17",
    "FACTURE\nRéférence acheteur no. SERV-4711\nNo. 2026-17",
    "FACTUUR\nKopersreferentie nr. 88123\nNr. 2026-17",
    "FATTURA\nCodice destinatario nr. M5UXCR1\nNr. 2026-17",
    "FACTURA\nReferencia del comprador no. L01280796\nNo. 2026-17",
]


@pytest.mark.parametrize("text", CORRECTIONS)
def test_a_correction_keeps_its_own_number_not_the_corrected_one_or_the_buyers_reference(text: str) -> None:
    fields = extract_rules([Page(1, text)], DocKind.INVOICE)
    assert fields["invoice_number"].value.endswith("2026-17")


def test_the_corrected_number_printed_first_is_skipped() -> None:
    text = "Korrektur zu Rechnung Nr. RE-2026-05\nRechnungskorrektur Nr. RK-2026-17"
    assert extract_rules([Page(1, text)], DocKind.INVOICE)["invoice_number"].value == "RK-2026-17"


@pytest.mark.parametrize(
    ("text", "net", "tax", "grand"),
    [
        (
            "FACTURE\nTotal HT 11 304,94 €\nTVA 20 % 2 260,99 €\nTotal TTC 13 565,93 €",
            "11304.94",
            "2260.99",
            "13565.93",
        ),
        ("FATTURA\nImponibile 1.250,00\nIVA 22% 275,00\nTotale documento 1.525,00", "1250.00", "275.00", "1525.00"),
        ("FACTURA\nBase imponible 800,00\nIVA 21% 168,00\nTotal factura 968,00", "800.00", "168.00", "968.00"),
    ],
)
def test_totals_in_french_italian_and_spanish_styles(text: str, net: str, tax: str, grand: str) -> None:
    assert classify([text]).kind == DocKind.INVOICE  # "factura", "IVA", "totale": not an unknown document
    fields = extract_rules([Page(1, text)], DocKind.INVOICE)
    assert (fields["net_total"].value, fields["tax_total"].value, fields["grand_total"].value) == (net, tax, grand)


@pytest.mark.parametrize(
    "text",
    [
        "AVOIR n° AV-1\nTotal HT -1 218,48 €\nTVA 20 % -243,70 €\nTotal TTC -1 462,18 €",
        "CREDIT NOTE\nNet total: € -1,218.48\nVAT 20%: € -243.70\nTotal due: € -1,462.18",
        "GUTSCHRIFT\nNettobetrag −1.218,48\nUSt 20 % −243,70\nGesamtbetrag −1.462,18",
        "Gutschrift\nNettobetrag 1.218,48-\nUSt 20 % 243,70-\nGesamtbetrag 1.462,18-",
        "NOTA DI CREDITO\nImponibile -1.218,48\nIVA 20% -243,70\nTotale documento -1.462,18",
    ],
)
def test_credit_note_totals_stay_negative(text: str) -> None:
    fields = extract_rules([Page(1, text)], DocKind.INVOICE)
    totals = (fields["net_total"].value, fields["tax_total"].value, fields["grand_total"].value)
    assert totals == ("-1218.48", "-243.70", "-1462.18")


# A bare "Number:" caption under the title, after a customer number; and one in a party's block, which is not ours
BARE_NUMBERS = [
    "INVOICE\nCustomer number: 131431\nNumber: F1382258",
    "FACTURA\nCliente\nVargas & Asociados S.A.T.\nNúmero: F1382258\nFecha: 2025-10-06",
    "FATTURA\nCodice cliente: 131431\nNumero: F1382258\nData: 2025-05-07",
    "FACTURE\nNuméro : F1382258\nDate : 06/10/2025",
]


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [(text, "issue_date", "2026-03-09") for text in SUPPLY_AND_PAY_BY + LAYOUT_VIEWS]
    + [(text, "invoice_number", "F1382258") for text in BARE_NUMBERS],
)
def test_the_caption_over_a_value_says_what_it_is(text: str, field: str, value: str) -> None:
    """Supply and "pay by" dates, a layout view's padded captions and header rows (a wide gap is no caption of its
    own, a header captions only the value under it), a bare "Number:" under the title."""
    assert extract_rules([Page(1, text)], DocKind.INVOICE)[field].value == value


@pytest.mark.parametrize(
    "text",
    [
        "INVOICE\nSupplier:\nNumber: 549910\nSupplies Ltd\nBill to:\nNumber: 75969815\nCustomer Inc",
        # FeRD's samples print a bare 'Nummer' under every party, captioned or not
        "Rechnung\nVerkäufer\nNummer: 549910\nAbweichender Zahlungsempfänger\nNummer: 4711",
    ],
)
def test_a_bare_number_in_a_party_block_is_the_partys(text: str) -> None:
    assert "invoice_number" not in extract_rules([Page(1, text)], DocKind.INVOICE)


SELLER_CAPTIONS = {  # the seller's block under its caption, after the title line; the buyer's further down
    "nl": "FACTUUR\nLeverancier\nDrukkerij Van Aalst\nKerkstraat 12\n3511 LK Utrecht\nKlant\nBakkerij Jansen",
    "it": "FATTURA\nFornitore\nTipografia Bianchi\nVia Roma 4\n20121 Milano\nCliente\nForno Rossi",
    "es": "FACTURA\nProveedor:\nImprenta Ruiz\nCalle Mayor 8\n28013 Madrid\nCliente\nPanadería López",
}


@pytest.mark.parametrize("language", sorted(SELLER_CAPTIONS))
def test_a_seller_caption_names_the_seller_not_itself(language: str) -> None:
    """Dutch, Italian and Spanish seller captions as the German, English and French ones: the name under it."""
    fields = extract_rules([Page(1, SELLER_CAPTIONS[language])], DocKind.INVOICE)
    assert fields["seller_name"].value == SELLER_CAPTIONS[language].split("\n")[2]


@pytest.mark.parametrize("language", sorted(SELLER_CAPTIONS))
def test_a_buyer_caption_names_the_buyer(language: str) -> None:
    """'Klant', 'Cliente' head the buyer's block in Dutch, Italian and Spanish as 'Bill to' does in English."""
    fields = extract_rules([Page(1, SELLER_CAPTIONS[language])], DocKind.INVOICE)
    assert fields["buyer_name"].value == SELLER_CAPTIONS[language].split("\n")[-1]


# A letterhead, then the buyer under a caption only the buyer's name reads: the letterhead still names the seller
LETTERHEADS = [
    "RECHNUNG\nDowerg Cichorius GmbH\nRädelstraße 8\n67931 Freudenstadt\nKunde:\nPohl Eigenwillig GbR\nRing 5",
    "FATTURA\nInnocenti S.r.l.\nIncrocio Luna, 72\n13887 San Staglieno\nSpett.le\nVezzali Group\nContrada 90",
    "FACTURA\nSilvio Aguilar S.A.\nAvenida Español 998\n15881 Ciudad\nFacturar a:\nGuzman y Montenegro\nPasaje 657",
]


@pytest.mark.parametrize("text", LETTERHEADS)
def test_a_buyer_caption_leaves_the_letterhead_to_the_seller(text: str) -> None:
    lines = text.split("\n")
    fields = extract_rules([Page(1, text)], DocKind.INVOICE)
    assert (fields["seller_name"].value, fields["buyer_name"].value) == (lines[1], lines[5])
