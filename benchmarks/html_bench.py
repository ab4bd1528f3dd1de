"""Invoices no layout here ever drew: HTML templates printed by Chromium, read by the shipped extractor.

The trained tier learned from ``extractors/layouts.py``'s reportlab layouts. Real invoices come from other engines
(ERP reports, web shops, word processors): other text layers, other reading orders, other words. This bench
renders the same kind of invoice values (``layouts.invoice_values``: Faker parties, six languages, credit notes,
distractor dates, defects) through four HTML templates written apart from those layouts, with their own label
vocabulary, and prints them with headless Chromium (Debian ``chromium``, as the workbench tests use). Then
``model_bench.evaluate``: accuracy of rules and the trained tier, calibration, and straight-through under the
default policy. Nothing here trains anything.

    python benchmarks/html_bench.py --docs 60 --seed 31
"""

from __future__ import annotations

import argparse
import html
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faker import Faker
from model_bench import evaluate

from extractors.layout_vocab import CURRENCIES, DATE_STYLES, FAKER_LOCALES, NUMBER_STYLES
from extractors.layouts import DEFECTS, LANGUAGES, GeneratedInvoice, Style, invoice_values, truth_of

# This bench's own words, chosen as real invoices in each language print them; not the generator's LABELS.
WORDS: dict[str, dict[str, list[str]]] = {
    "title": {"en": ["Invoice", "INVOICE"], "de": ["Rechnung"], "fr": ["Facture"], "nl": ["Factuur"],
              "it": ["Fattura"], "es": ["Factura"]},
    "credit": {"en": ["Credit note"], "de": ["Gutschrift"], "fr": ["Avoir"], "nl": ["Creditnota"],
               "it": ["Nota di credito"], "es": ["Factura rectificativa"]},
    "number": {"en": ["Invoice no.", "Invoice number"], "de": ["Rechnungsnummer", "Rechnungs-Nr."],
               "fr": ["Facture n°", "Numéro"], "nl": ["Factuurnummer"], "it": ["Fattura n.", "Numero"],
               "es": ["Nº de factura", "Número"]},
    "issue": {"en": ["Invoice date", "Date"], "de": ["Rechnungsdatum", "Datum"], "fr": ["Date", "Date de facture"],
              "nl": ["Factuurdatum", "Datum"], "it": ["Data", "Data fattura"], "es": ["Fecha", "Fecha factura"]},
    "due": {"en": ["Due date", "Payment due"], "de": ["Fällig am", "Zahlungsziel"], "fr": ["Échéance"],
            "nl": ["Vervaldatum"], "it": ["Scadenza"], "es": ["Vencimiento"]},
    "delivery": {"en": ["Delivery date"], "de": ["Lieferdatum"], "fr": ["Date de livraison"], "nl": ["Leverdatum"],
                 "it": ["Data consegna"], "es": ["Fecha de entrega"]},
    "order": {"en": ["Order date"], "de": ["Bestelldatum"], "fr": ["Date de commande"], "nl": ["Besteldatum"],
              "it": ["Data ordine"], "es": ["Fecha de pedido"]},
    "customer": {"en": ["Customer no."], "de": ["Kundennummer"], "fr": ["Code client"], "nl": ["Klantnummer"],
                 "it": ["Codice cliente"], "es": ["Nº cliente"]},
    "seller": {"en": ["From"], "de": ["Verkäufer"], "fr": ["Émetteur"], "nl": ["Leverancier"], "it": ["Fornitore"],
               "es": ["Emisor"]},
    "buyer": {"en": ["Bill to", "Customer"], "de": ["Kunde", "Rechnungsempfänger"], "fr": ["Client", "Facturé à"],
              "nl": ["Klant", "Factuuradres"], "it": ["Cliente", "Spett.le"], "es": ["Cliente", "Facturar a"]},
    "vat": {"en": ["VAT no."], "de": ["USt-IdNr."], "fr": ["TVA intracommunautaire"], "nl": ["Btw-nummer"],
            "it": ["Partita IVA"], "es": ["NIF"]},
    "net": {"en": ["Subtotal", "Net amount"], "de": ["Nettobetrag", "Summe netto"], "fr": ["Total HT"],
            "nl": ["Subtotaal"], "it": ["Imponibile"], "es": ["Base imponible"]},
    "tax": {"en": ["VAT {rate}%"], "de": ["zzgl. {rate} % USt."], "fr": ["TVA {rate} %"], "nl": ["Btw {rate}%"],
            "it": ["IVA {rate}%"], "es": ["IVA {rate}%"]},
    "grand": {"en": ["Total due", "Total"], "de": ["Gesamtbetrag", "Rechnungsbetrag"], "fr": ["Total TTC"],
              "nl": ["Totaal"], "it": ["Totale fattura"], "es": ["Total factura"]},
    "items": {"en": ["Description|Qty|Unit price|Amount"], "de": ["Bezeichnung|Menge|Einzelpreis|Betrag"],
              "fr": ["Désignation|Qté|P.U.|Montant"], "nl": ["Omschrijving|Aantal|Prijs|Bedrag"],
              "it": ["Descrizione|Q.tà|Prezzo|Importo"], "es": ["Concepto|Cant.|Precio|Importe"]},
}  # fmt: skip
TEMPLATES = ("split", "letter", "cards", "grid")
_CSS = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:9.5pt;margin:16mm}table{border-collapse:collapse}"
    "td,th{padding:2px 6px;vertical-align:top;text-align:left}td{white-space:nowrap}.n{text-align:right}"
    ".items{width:100%;margin:6mm 0}.items td:first-child{white-space:normal}"
    ".items th{border-bottom:1px solid #444}.row{display:flex;justify-content:space-between;gap:8mm}"
    ".card{border:1px solid #bbb;padding:3mm;flex:1}.small{font-size:7.5pt;color:#555}h1{font-size:16pt}"
)


def _e(value: object) -> str:
    return html.escape(str(value))


def _lines(lines: list[str]) -> str:
    return "<br>".join(_e(line) for line in lines)


def _amount(style: Style, value: Decimal) -> str:
    code, symbol = style.currency
    text = style.money(value)
    return f"{symbol}{text}" if style.language == "en" and symbol != code else f"{text} {symbol}"


def _parts(data: dict, style: Style, words: dict[str, str]) -> dict[str, str]:
    """The pieces every template places: meta rows, party blocks, the items table, the totals."""
    date = style.date
    meta = [(words["number"], data["invoice_number"]), (words["issue"], date(data["issue"]))]
    extras = {"delivery": date(data["delivery"]), "order": date(data["order"]), "customer": data["customer"]}
    meta += [(words[key], value) for key, value in extras.items() if key in data["extras"]]
    if data["due_date"] is not None:
        meta.append((words["due"], date(data["due"])))
    sign = data["sign"]
    head = words["items"].split("|")
    rows = "".join(
        f"<tr><td>{_e(text)}</td><td class=n>{quantity}</td><td class=n>{_amount(style, price)}</td>"
        f"<td class=n>{_amount(style, amount * sign)}</td></tr>"
        for text, quantity, price, amount in data["lines"]
    )
    totals = [
        (words["net"], data["net_total"]),
        (words["tax"].format(rate=data["rate"]), data["tax_total"]),
        (words["grand"], data["grand_total"]),
    ]
    seller_ids = [f"{words['vat']}: {data['seller_vat_id']}"] if data["seller_vat_id"] else []
    return {
        "title": _e(words["credit"] if style.credit else words["title"]),
        "meta": "".join(f"<tr><td>{_e(k)}:</td><td>{_e(v)}</td></tr>" for k, v in meta),
        "meta_row": "<tr>"
        + "".join(f"<th>{_e(k)}</th>" for k, _ in meta)
        + "</tr><tr>"
        + "".join(f"<td>{_e(v)}</td>" for _, v in meta)
        + "</tr>",
        "seller": f"<b>{_e(data['seller_name'])}</b><br>{_lines(data['seller_address'])}",
        "seller_ids": _lines(seller_ids),
        "buyer": f"<b>{_e(data['buyer_name'])}</b><br>{_lines(data['buyer_address'])}",
        "items": f"<table class=items><tr><th>{_e(head[0])}</th>"
        + "".join(f"<th class=n>{_e(h)}</th>" for h in head[1:])
        + f"</tr>{rows}</table>",
        "totals": "".join(f"<tr><td>{_e(k)}</td><td class=n>{_amount(style, Decimal(v))}</td></tr>" for k, v in totals),
        "bank": f"IBAN {_e(data['iban'])}",
    }


def render(template: str, data: dict, style: Style, words: dict[str, str]) -> str:
    """One invoice as an HTML page in ``template``."""
    p = _parts(data, style, words)
    seller_caption, buyer_caption = _e(words["seller"]), _e(words["buyer"])
    if template == "split":  # letterhead left, title and meta right, buyer under a caption, totals right
        body = (
            f"<div class=row><div>{p['seller']}<br>{p['seller_ids']}</div><div><h1>{p['title']}</h1>"
            f"<table>{p['meta']}</table></div></div><p>{buyer_caption}:<br>{p['buyer']}</p>{p['items']}"
            f"<table style='margin-left:55%'>{p['totals']}</table><p class=small>{p['bank']}</p>"
        )
    elif template == "letter":  # return-address line over the window, no buyer caption, meta as one header row
        sender = " · ".join([data["seller_name"], *data["seller_address"]])
        body = (
            f"<div class=row><div><p class=small style='white-space:nowrap'>{_e(sender)}</p>{p['buyer']}</div>"
            f"<div class=n>{p['seller']}</div></div><h1>{p['title']}</h1><table>{p['meta_row']}</table>"
            f"{p['items']}<table style='margin-left:50%'>{p['totals']}</table>"
            f"<p class=small>{_e(data['seller_name'])} · {p['seller_ids']} · {p['bank']}</p>"
        )
    elif template == "cards":  # captioned party cards side by side, a meta card under them, totals boxed
        body = (
            f"<h1>{p['title']}</h1><div class=row><div class=card><i>{seller_caption}</i><br>{p['seller']}</div>"
            f"<div class=card><i>{buyer_caption}</i><br>{p['buyer']}</div></div><div class=card><table>{p['meta']}"
            f"</table></div>{p['items']}<div class=row><div class=small>{p['seller_ids']}<br>{p['bank']}"
            f"</div><table class=card>{p['totals']}</table></div>"
        )
    else:  # grid: parties in a two-column table with captions as header cells, meta below, seller ids in a footer
        body = (
            f"<h1>{p['title']}</h1><table class=items><tr><th>{seller_caption}</th><th>{buyer_caption}</th></tr>"
            f"<tr><td>{p['seller']}</td><td>{p['buyer']}</td></tr></table><table>{p['meta']}</table>{p['items']}"
            f"<table style='margin-left:60%'>{p['totals']}</table><hr><p class=small>{p['seller_ids']} — "
            f"{p['bank']}</p>"
        )
    return f"<!doctype html><html><head><meta charset=utf-8><style>{_CSS}</style></head><body>{body}</body></html>"


def invoices(seed: int, count: int, defective: float, folder: Path) -> list[GeneratedInvoice]:
    """``count`` invoices drawn like ``layouts.generate``'s, each rendered by a template and printed to PDF."""
    rng = random.Random(seed)
    drafts = []
    for index in range(count):
        number = seed * 100_000 + index
        language, template = rng.choice(LANGUAGES), rng.choice(TEMPLATES)
        fake = Faker(FAKER_LOCALES[language])
        fake.seed_instance(number)
        words = {concept: rng.choice(options[language]) for concept, options in WORDS.items()}
        style = Style(language, words, rng.choice(DATE_STYLES[language]), rng.choice(NUMBER_STYLES[language]),
                      rng.choice(CURRENCIES), rng.random() < 0.12)  # fmt: skip
        data, defect = invoice_values(rng, fake, style, defective=defective, small=True)
        page = folder / f"html-{number}.html"
        page.write_text(render(template, data, style, words), encoding="utf-8")
        drafts.append((page, template, language, data, defect))
    with ThreadPoolExecutor(2) as pool:
        pdfs = list(pool.map(_print, [page for page, *_ in drafts]))
    made = []
    for (page, template, language, data, defect), pdf in zip(drafts, pdfs, strict=True):
        findings = [DEFECTS[defect]] if defect else []
        name = page.with_suffix(".pdf").name
        made.append(GeneratedInvoice(name, f"html-{template}", language, -1, pdf, truth_of(data), defect, findings))
    return made


def _print(page: Path) -> bytes:
    """``page`` printed to PDF by headless Chromium (A4 by the page's own CSS margins, no header or footer)."""
    out = page.with_suffix(".pdf")
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={out}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out.read_bytes()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("chromium not found: scripts/system-deps.sh installs it")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--defective", type=float, default=0.3)
    parser.add_argument("--misses", action="store_true", help="list the answers at >= 0.98 that are wrong")
    parser.add_argument("--keep", type=Path, help="also copy the PDFs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docval-html-") as folder:
        drawn = invoices(args.seed, args.docs, args.defective, Path(folder))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for invoice in drawn:
                (args.keep / invoice.name).write_bytes(invoice.pdf)
    evaluate(drawn, f"HTML templates {TEMPLATES} printed by Chromium (seed {args.seed})", misses=args.misses)


if __name__ == "__main__":
    main()
