"""The printed vocabulary of generated invoices: per language, the label synonyms, date and number formats.

``layouts`` draws one of each per document (its ``Style``), so a model trained on the generated corpus sees
the many ways real invoices word and format the same field. Kept apart from the generator because it is data:
a new synonym or language is added here without reading how documents are built.
"""

from __future__ import annotations

__all__ = ["CURRENCIES", "DATE_STYLES", "FAKER_LOCALES", "LABELS", "NUMBER_STYLES"]

# label synonyms per concept and language; the generator picks one per document
LABELS: dict[str, dict[str, list[str]]] = {
    "title": {
        "en": ["INVOICE", "Invoice", "Tax Invoice"],
        "de": ["RECHNUNG", "Rechnung"],
        "fr": ["FACTURE", "Facture"],
        "nl": ["FACTUUR", "Factuur"],
        "it": ["FATTURA", "Fattura"],
        "es": ["FACTURA", "Factura"],
    },
    "credit": {
        "en": ["CREDIT NOTE", "Credit Note"],
        "de": ["GUTSCHRIFT", "Rechnungskorrektur"],
        "fr": ["AVOIR", "Facture d'avoir"],
        "nl": ["CREDITNOTA", "Creditfactuur"],
        "it": ["NOTA DI CREDITO"],
        "es": ["FACTURA RECTIFICATIVA", "NOTA DE CRÉDITO"],
    },
    "number": {
        "en": ["Invoice number", "Invoice No.", "Invoice #", "Number"],
        "de": ["Rechnungsnummer", "Rechnungs-Nr.", "Rechnung Nr.", "Beleg-Nr."],
        "fr": ["Numéro de facture", "Facture n°", "N° facture"],
        "nl": ["Factuurnummer", "Factuurnr.", "Nummer"],
        "it": ["Numero fattura", "Fattura n.", "N. documento"],
        "es": ["Número de factura", "Factura nº", "Nº factura"],
    },
    "issue": {
        "en": ["Invoice date", "Date", "Date of issue", "Issue date"],
        "de": ["Rechnungsdatum", "Datum", "Belegdatum", "Ausstellungsdatum"],
        "fr": ["Date de facture", "Date", "Date d'émission", "Date de facturation"],
        "nl": ["Factuurdatum", "Datum"],
        "it": ["Data fattura", "Data", "Data documento", "Data di emissione"],
        "es": ["Fecha de factura", "Fecha", "Fecha de emisión", "Fecha de expedición"],
    },
    "due": {
        "en": ["Due date", "Payment due", "Pay by"],
        "de": ["Fälligkeitsdatum", "Fällig am", "Zahlbar bis"],
        "fr": ["Date d'échéance", "Échéance", "À payer avant le"],
        "nl": ["Vervaldatum", "Te betalen voor"],
        "it": ["Data scadenza", "Scadenza", "Da pagare entro"],
        "es": ["Fecha de vencimiento", "Vencimiento", "Pagar antes de"],
    },
    "delivery": {
        "en": ["Delivery date", "Date of supply", "Shipped"],
        "de": ["Lieferdatum", "Leistungsdatum", "Liefertermin"],
        "fr": ["Date de livraison", "Date de prestation"],
        "nl": ["Leverdatum", "Leveringsdatum"],
        "it": ["Data consegna", "Data di consegna"],
        "es": ["Fecha de entrega", "Fecha de suministro"],
    },
    "period": {
        "en": ["Service period", "Period"],
        "de": ["Leistungszeitraum", "Abrechnungszeitraum"],
        "fr": ["Période de prestation", "Période"],
        "nl": ["Periode", "Leveringsperiode"],
        "it": ["Periodo di competenza", "Periodo"],
        "es": ["Periodo de servicio", "Periodo"],
    },
    "order": {
        "en": ["Order date", "Your order of"],
        "de": ["Bestelldatum", "Ihre Bestellung vom", "Auftragsdatum"],
        "fr": ["Date de commande", "Votre commande du"],
        "nl": ["Besteldatum", "Uw bestelling van"],
        "it": ["Data ordine", "Vostro ordine del"],
        "es": ["Fecha de pedido", "Su pedido del"],
    },
    "customer": {
        "en": ["Customer No.", "Account", "Customer ID"],
        "de": ["Kundennummer", "Kunden-Nr.", "Kd.-Nr."],
        "fr": ["N° client", "Code client"],
        "nl": ["Klantnummer", "Klantnr."],
        "it": ["Codice cliente", "Cliente n."],
        "es": ["Nº cliente", "Código de cliente"],
    },
    "seller": {
        "en": ["From", "Supplier", "Seller"],
        "de": ["Lieferant", "Verkäufer", "Absender"],
        "fr": ["Fournisseur", "Vendeur", "Émetteur"],
        "nl": ["Leverancier", "Verkoper"],
        "it": ["Fornitore", "Cedente"],
        "es": ["Proveedor", "Emisor", "Vendedor"],
    },
    "buyer": {
        "en": ["Bill to", "Customer", "Invoice to"],
        "de": ["Rechnungsempfänger", "Kunde", "An"],
        "fr": ["Client", "Facturé à", "Destinataire"],
        "nl": ["Klant", "Factuuradres", "Aan"],
        "it": ["Cliente", "Destinatario", "Cessionario"],
        "es": ["Cliente", "Facturar a", "Destinatario"],
    },
    "vat": {
        "en": ["VAT ID", "VAT No."],
        "de": ["USt-IdNr.", "USt-ID"],
        "fr": ["N° TVA", "TVA intracom."],
        "nl": ["Btw-nummer", "BTW-nr."],
        "it": ["Partita IVA", "P.IVA"],
        "es": ["NIF-IVA", "CIF"],
    },
    "net": {
        "en": ["Net total", "Subtotal", "Total excl. VAT", "Net amount"],
        "de": ["Nettobetrag", "Zwischensumme", "Summe netto", "Gesamt netto"],
        "fr": ["Total HT", "Montant HT", "Sous-total"],
        "nl": ["Subtotaal", "Totaal excl. btw", "Netto"],
        "it": ["Imponibile", "Totale imponibile", "Subtotale"],
        "es": ["Base imponible", "Subtotal", "Importe neto"],
    },
    "tax": {
        "en": ["VAT {rate}%", "Tax ({rate}%)", "VAT"],
        "de": ["MwSt. {rate}%", "USt {rate} %", "zzgl. {rate}% MwSt."],
        "fr": ["TVA {rate}%", "TVA ({rate} %)", "Montant TVA"],
        "nl": ["Btw {rate}%", "BTW ({rate}%)"],
        "it": ["IVA {rate}%", "Imposta {rate}%"],
        "es": ["IVA {rate}%", "Cuota IVA"],
    },
    "grand": {
        "en": ["Total", "Total due", "Amount due", "Grand total", "Total incl. VAT"],
        "de": ["Gesamtbetrag", "Rechnungsbetrag", "Endbetrag", "Summe brutto", "Zu zahlen"],
        "fr": ["Total TTC", "Montant TTC", "Net à payer"],
        "nl": ["Totaal", "Te betalen", "Totaal incl. btw"],
        "it": ["Totale", "Totale documento", "Totale da pagare"],
        "es": ["Total", "Total factura", "Importe total"],
    },
    "table": {
        "en": ["Description|Qty|Unit price|Amount"],
        "de": ["Bezeichnung|Menge|Einzelpreis|Gesamt", "Artikel|Anzahl|Preis|Betrag"],
        "fr": ["Désignation|Qté|Prix unitaire|Montant"],
        "nl": ["Omschrijving|Aantal|Prijs|Bedrag"],
        "it": ["Descrizione|Quantità|Prezzo|Importo"],
        "es": ["Descripción|Cantidad|Precio|Importe"],
    },
    "page": {
        "en": ["Page"],
        "de": ["Seite"],
        "fr": ["Page"],
        "nl": ["Pagina"],
        "it": ["Pagina"],
        "es": ["Página"],
    },
}
FAKER_LOCALES = {"en": "en_GB", "de": "de_DE", "fr": "fr_FR", "nl": "nl_NL", "it": "it_IT", "es": "es_ES"}
DATE_STYLES = {
    "en": ["%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%m/%d/%Y", "%d-%m-%Y"],
    "de": ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"],
    "fr": ["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"],
    "nl": ["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"],
    "it": ["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"],
    "es": ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"],
}
NUMBER_STYLES = {"en": [",."], "de": [".,", " ,"], "fr": [" ,", ".,"], "nl": [".,"], "it": [".,"], "es": [".,"]}
CURRENCIES = [("EUR", "€"), ("EUR", "EUR"), ("USD", "$"), ("GBP", "£"), ("CHF", "CHF")]
