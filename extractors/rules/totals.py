"""Invoice totals: net, tax and grand total read together, so the three amounts agree with each other.

Labels alone mislead on totals (a VAT line prints its base too, a subtotal sits above the discount), so this
module picks the net + tax = grand triple among all labelled candidates, sums per-rate tax lines, splits
table rows pypdf glued together, and only when nothing adds up falls back to the best single labels
(deriving a missing net or a zero tax at low confidence). Split out of ``rules.invoice``, which asks it once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from itertools import combinations, permutations, product

from extractors.normalize import parse_amount
from extractors.rules.base import Candidate, LabelRecognizer, PageLike, best

__all__ = ["totals"]

_CURRENCY_MARK = r"(?:EUR|USD|GBP|INR|PLN|CHF|Rs\.?|€|\$|£)"
# With cents, or with a currency mark; never glued to letters (ids such as DE123456789) and never a rate
# ('19,00 %'). A sign before the amount or after it ('119,00-') is kept: credit notes print negative totals.
_MONEY = (
    rf"(?<![\w.,])(?:[-−] ?)?(?:{_CURRENCY_MARK} *)?[-−]?"
    rf"(?:\d{{1,3}}(?:[.,' \u00a0\u202f]\d{{3}})+|\d+)[.,]\d{{2}}(?![\d%])(?! +%)(?![.,]\d)(?:-(?![\w-]))?"
    rf"|(?<![\w.,]){_CURRENCY_MARK} *(?:\d{{1,3}}(?:[.,' \u00a0\u202f]\d{{3}})+|\d+)(?![\d%.,])"
    # a whole amount before its currency: 'Total: 238 EUR' (the visible page of a minimal e-invoice)
    rf"|(?<![\w.,])(?:\d{{1,3}}(?:[.,' \u00a0\u202f]\d{{3}})+|\d+) *(?:EUR|USD|GBP|CHF|€|£)(?!\w)"
)


def _money(raw: str) -> str | None:
    value = parse_amount(raw)
    return None if value is None else str(value)


def _total_recognizer(field_name: str, labels: dict[str, float]) -> LabelRecognizer:
    """Totals print at the bottom, after the base they are computed from, often in a column under their label."""
    return LabelRecognizer(field_name, labels, _MONEY, _money, prefer_last=True, last_on_line=True, rows_below=4)


_GRAND_TOTAL = _total_recognizer(
    "grand_total",
    {
        r"grand +total|total +ttc|montant +(?:eur +)?ttc|somme +à +payer|net +à +payer": 1.0,
        r"rechnungs(?:summe|betrag) +brutto|brutto-?betrag|gesamtbetrag +brutto|rechnungsbetrag|endbetrag": 1.0,
        r"\bbeitrag +inkl\w*\.?": 0.85,  # insurance: 'vierteljährlicher Beitrag inklusive 19 % Versicherungsteuer'
        r"zahlbetrag|zu +zahlender +betrag|due +payable|amount +due|balance +due|total +due": 0.85,
        r"summe +inkl\.? *(?:ust|mwst)\.?|rechnungsbeitrag|gesamtsumme|bruttosumme|summe +brutto": 0.95,
        r"total +amount|invoice +total|importe +total|totaal +te +betalen": 0.95,
        r"totale +(?:documento|fattura|da +pagare)|total +(?:factura|a +pagar)|totaal +incl\w*\.? *btw": 0.95,
        r"total +incl\w*\.? *(?:vat|tax|tva|iva|mwst|ust)": 0.95,
        r"total +for +this +invoice|total +facture|factuur *totaal|gesamtbetrag": 0.9,
        r"rechnungssumme(?! +(?:ohne|netto))": 0.9,
        r"\btotaal\b|(?<!vat )(?<!tax )\btotal\b(?! *(?:ht|net|hors|excl|tax|vat|tva|mwst|ust))": 0.7,
    },
)
_NET_TOTAL = _total_recognizer(
    "net_total",
    {
        r"rechnungssumme +ohne +(?:ust|mwst)\.?|total +ht|montant +(?:eur +)?ht|total +hors +tax\w*": 1.0,
        r"(?:rechnungs)?summe +netto": 1.0,
        r"netto-?betrag|nettosumme|gesamt(?:betrag)? *netto|warenwert +netto|net +total|total +net": 1.0,
        r"total +excl\w*\.? +(?:vat|tax)|amount +untaxed|exclusief +btw|totaal +excl\w*": 1.0,
        r"sub-?total|zwischensumme|gesamtbeitrag|\bnetto\b|summe +waren|warensumme": 0.7,
        r"grondslag|base +imposable|\bcharges\b": 0.6,
        r"(?:totale +)?imponibile|base +imponible|subtotaal": 0.9,
    },
)
_TAX_TOTAL = _total_recognizer(
    "tax_total",
    {
        r"zuzügl\.? *(?:ust|mwst)\.?|steuerbetrag": 1.0,
        r"(?:summe +)?(?:mwst|ust|umsatzsteuer|mehrwertsteuer)[ \t.-]*(?:betrag|summe)": 1.0,
        r"summe +(?:der +)?(?:mwst|ust|umsatzsteuer|mehrwertsteuer)": 1.0,
        r"total +(?:tax|vat|tva)|(?:tax|vat) +total|montant +(?:de +la +)?tva|btw +bedrag|total +mwst": 1.0,
        r"\b(?:tva|vat|btw|iva|mwst|ust|tax|versicherungsteuer)\b\.? *\(?\d{1,2}(?:[.,]\d+)? *%\)? *:?": 0.85,
        r"(?:totale|total|cuota) +iva|imposta": 0.95,
        r"\b(?:tax|vat|tva|iva|mwst|ust|\w*steuer)\b": 0.6,  # any '…steuer', misspelt 'Umsatzssteuer' too
    },
)
_TOTALS = (_NET_TOTAL, _TAX_TOTAL, _GRAND_TOTAL)
_CENT = Decimal("0.011")
_GLUED_CELL = re.compile(r"\d+[.,]\d{2}")
_GLUED_AMOUNTS = re.compile(rf"(?<![\d.,])(?:{_GLUED_CELL.pattern}){{3}}(?![\d.,])")
_GLUED_CONFIDENCE = 0.6
_DERIVED = 0.6
_MAX_TAX_LINES = 8


def totals(pages: Sequence[PageLike]) -> dict[str, Candidate | None]:
    """Pick net, tax and grand total together: a triple with net + tax = grand beats any label on its own;
    with several VAT rates the tax total is the sum of the per-rate amounts."""
    net_options, tax_options, grand_options = (recognizer.candidates(pages) for recognizer in _TOTALS)
    consistent = [
        (net, tax, grand)
        for net, tax, grand in product(net_options, tax_options + _tax_sums(tax_options), grand_options)
        if _adds_up(net, tax, grand)
    ] + _glued_triples(pages)
    if consistent:
        chosen = max(consistent, key=lambda triple: (sum(c.confidence for c in triple), triple[2].span[0]))
        return {
            recognizer.field_name: Candidate(max(c.confidence, 0.95), c.value, c.page, c.span)
            for recognizer, c in zip(_TOTALS, chosen, strict=True)
        }
    net, tax, grand = (best(options, prefer_last=True) for options in (net_options, tax_options, grand_options))
    return {"net_total": net or _derived_net(tax, grand), "tax_total": tax or _no_tax(net, grand), "grand_total": grand}


def _no_tax(net: Candidate | None, grand: Candidate | None) -> Candidate | None:
    """Net and gross both printed and equal (small businesses, exempt supplies): the tax is 0.00, located at
    the gross, with the confidence of the weaker of the two."""
    if net is None or grand is None or Decimal(net.value) != Decimal(grand.value):
        return None
    return Candidate(min(net.confidence, grand.confidence), "0.00", grand.page, grand.span)


def _derived_net(tax: Candidate | None, grand: Candidate | None) -> Candidate | None:
    """No net printed, derived with a low confidence so a model tier may still look. Gross-priced invoices
    (insurance premiums 'inklusive 19 % Versicherungsteuer') print the gross and the tax in it: net = grand - tax.
    Invoices without any tax amount (exports, reverse charge, small businesses) print one total: net = grand."""
    if grand is None:
        return None
    if tax is None:
        return Candidate(grand.confidence * _DERIVED, grand.value, grand.page, grand.span)
    net = Decimal(grand.value) - Decimal(tax.value)
    if not 0 < Decimal(tax.value) < net:
        return None
    return Candidate(min(tax.confidence, grand.confidence) * _DERIVED, str(net), grand.page, grand.span)


def _adds_up(net: Candidate, tax: Candidate, grand: Candidate) -> bool:
    """net + tax = grand, and the tax is the smaller addend (rates are under 100 %): 121.50 + 23.09 = 144.59
    is not read as net 23.09 with tax 121.50 when the VAT line also prints its base ('19 % of €121.50')."""
    net_value, tax_value = Decimal(net.value), Decimal(tax.value)
    return (
        abs(net_value + tax_value - Decimal(grand.value)) <= _CENT
        and Decimal(grand.value) != 0
        and abs(tax_value) <= abs(net_value)
    )


def _glued_triples(pages: Sequence[PageLike]) -> list[tuple[Candidate, Candidate, Candidate]]:
    """pypdf glues a table row's cells when they have no gap ('29.995.0024.99' is 29.99 | 5.00 | 24.99); cents
    fix where each amount ends, and a row whose three amounts add up in some order is a (net, tax, grand) triple."""
    triples = []
    for page in pages:
        for match in _GLUED_AMOUNTS.finditer(page.text):
            cells = [
                Candidate(
                    _GLUED_CONFIDENCE,
                    str(parse_amount(cell.group(0))),
                    page.number,
                    (match.start() + cell.start(), match.start() + cell.end()),
                )
                for cell in _GLUED_CELL.finditer(match.group(0))
            ]
            # VAT rates are under 100 %: the tax is the smaller of the two addends.
            triples.extend(t for t in permutations(cells) if _adds_up(*t) and Decimal(t[1].value) < Decimal(t[0].value))
    return triples


def _tax_sums(taxes: list[Candidate]) -> list[Candidate]:
    """Sums of two or three distinct per-rate tax amounts, as candidates located at the first of them."""
    distinct = list({c.value: c for c in taxes}.values())[:_MAX_TAX_LINES]
    sums = []
    for size in (2, 3):
        for group in combinations(distinct, size):
            total = sum((Decimal(c.value) for c in group), Decimal(0))
            first = group[0]
            sums.append(Candidate(min(c.confidence for c in group) * 0.95, str(total), first.page, first.span))
    return sums
