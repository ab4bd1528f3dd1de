"""Invoice recognizers: label anchors in English, German, French and Dutch, plus layout heuristics.

The heuristics that earn most of the accuracy: totals are reconciled (the
net + tax = grand triple among all candidates wins over any single label),
IBANs and VAT ids are accepted on checksum even without a label (pypdf often
glues a label behind its value), and names come from the block under a
seller/buyer caption or the first line carrying a company suffix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import partial
from itertools import combinations, permutations, product

from extractors.normalize import (
    currency_code,
    iban_is_valid,
    normalize_iban,
    normalize_vat_id,
    parse_amount,
    parse_date,
    vat_id_is_valid,
)
from extractors.rules.base import Candidate, LabelRecognizer, PageLike, best
from extractors.rules.lines import extract_line_items
from extractors.rules.meaning import issue_dates, own_numbers

__all__ = ["extract_invoice"]

_DATE = (
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}"
    r"|\d{1,2}\.? *(?:er +)?[A-Za-zÀ-ÿ]{3,}\.? *,? *\d{4}"
    r"|[A-Za-zÀ-ÿ]{3,}\.? +\d{1,2} *, *\d{4}"
)
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
_NUMBER = r"(?:# *)?(?=[A-Z0-9/_.\-]*\d)[A-Z0-9][A-Z0-9/_.\-]{2,}"


def _iso_date(raw: str, *, month_first: bool = False) -> str | None:
    parsed = parse_date(raw, month_first=month_first)
    return parsed.isoformat() if parsed else None


_SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/\d{4}(?!\d)")


def _writes_month_first(pages: Sequence[PageLike]) -> bool:
    """US-style dates (11/17/2017) anywhere and no day-first ones (17/11/2017): read 11/03/2017 as Nov 3."""
    pairs = [(int(a), int(b)) for page in pages for a, b in _SLASH_DATE.findall(page.text)]
    return any(b > 12 >= a for a, b in pairs) and not any(a > 12 >= b for a, b in pairs)


def _money(raw: str) -> str | None:
    value = parse_amount(raw)
    return None if value is None else str(value)


def _number(raw: str) -> str | None:
    """An invoice number as printed; a bare date next to a 'Nr.' label is not one."""
    value = raw.strip().lstrip("#").strip().rstrip(".-/")
    if not value or re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", value):
        return None
    return value


def _total_recognizer(field_name: str, labels: dict[str, float]) -> LabelRecognizer:
    """Totals print at the bottom, after the base they are computed from, often in a column under their label."""
    return LabelRecognizer(field_name, labels, _MONEY, _money, prefer_last=True, last_on_line=True, rows_below=4)


_INVOICE_NUMBER = LabelRecognizer(
    "invoice_number",
    {
        r"rechnungs?[ \t-]*(?:nummer|nr\.?|no\.?)|rechnung *(?:nr\.?|#|no\.?)|beleg-?nr\.?": 1.0,
        r"gutschrift(?:s-?nr\.?|snummer)": 1.0,
        r"invoice[ -]*(?:number|no\.?|nr\.?|#|id)|facture *(?:n°|no\.?|nº|numéro)|n° *de *facture": 1.0,
        r"numéro +de +facture|factuur *(?:nummer|nr\.?)|credit +note +(?:number|no\.?)|n° *facture": 1.0,
        r"numero +(?:della +)?fattura|fattura +n[.°º]?|n[.°º] *(?:fattura|documento)": 1.0,
        r"n[úu]mero +de +factura|factura +n[º°o.]|n[º°] *(?:de +)?factura": 1.0,
        r"booking +id|bill +no\.?|receipt +no\.?|document +no\.?|belegnummer": 0.85,
        r"\w*(?:rechnung|korrektur|gutschrift) *(?:nr\.?|#|no\.?)|\bavoir *(?:n°|no\.?)?": 1.0,
        r"^ *(?:invoice|rechnung|facture|factuur|avoir)\b": 0.75,
        # A header cell that is the bare word (layout view: a column gap on both sides) heads the number column:
        # 'Klant    Order    Factuur datum    Factuur    Vervaldatum' over the row of values.
        r"(?<= {3})(?:invoice|rechnung|facture|factuur)(?= {3,}\S)": 0.75,
        r"(?<![\w-])nr\.|(?<![\w-])no\.": 0.5,  # not the tail of "Steuer-Nr.", "Kto-Nr."
    },
    _NUMBER,
    _number,
)
_ISSUE_DATE = LabelRecognizer(
    "issue_date",
    {
        r"rechnungs-?datum|beleg-?datum|invoice +date|date +of +(?:the +)?invoice|ausstellungsdatum": 1.0,
        r"date +de +(?:la +)?facture|factuur *datum|issue +date|date +d['’]émission": 1.0,
        r"facture +n\S* *\S+ +du|gutschriftsdatum|datum +der +rechnung|date +de +facturation": 0.95,
        r"data +(?:della +)?fattura|data +(?:di +)?emissione|data +documento": 1.0,
        r"fecha +(?:de +(?:la +)?)?factura|fecha +de +(?:emisi[óo]n|expedici[óo]n)": 1.0,
        r"\w*(?:rechnung|korrektur|gutschrift) *nr\.? *\S+ +vom|\bfacture +\S+ +du|\w*rechnung +\(\d+\)": 0.95,
        r"\w*(?:rechnung|vertrag)\w*\b[^\n]{0,40}?\bnr\.?:? *\S+": 0.9,  # '…rechnung zur …versicherung Nr. X 11. März'
        r"\w+rechnung\b": 0.8,  # 'Beitragsrechnung 24. Januar 2014': a date right after the title
        r"\bdatum\b|\bdate\b|\bvom\b": 0.7,
    },
    _DATE,
    _iso_date,
)
_DUE_DATE = LabelRecognizer(
    "due_date",
    {
        r"due +date|payment +due|date +due|fälligkeits(?:datum|tag)|fällig +am|zahlbar +bis": 1.0,
        r"date +limite +de +paiement(?: +le)?|date +d['’]échéance|échéance|vervaldatum|vervaldag|due +by": 1.0,
        r"data +(?:di +)?scadenza|\bscadenza|fecha +de +vencimiento|\bvencimiento": 1.0,
        r"netto +bis|zahlungsziel|pay +by|à +payer +avant +le|te +betalen +v[oó]{1,2}r": 0.8,
        r"da +pagare +entro|pagar +antes +de": 0.8,
    },
    _DATE,
    _iso_date,
)
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

_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}")
_IBAN_LABEL = re.compile(r"iban|bankverbindung|bank account|konto|compte|rekening", re.IGNORECASE)
_MAX_ADDRESS_LINES = 4
_LABEL_REACH = 60  # an IBAN label may end the previous line ("... Bankverbindung: IBAN\nDE75 ...")
_VAT = re.compile(
    r"(?<![A-Z0-9])(?:ATU|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
    r"[ ]?(?:[0-9A-Z][ .]?){8,13}"
)
_VAT_LABEL = re.compile(
    r"ust[\w.\- ]*id|umsatzsteuer|\bvat\b|\btva\b|\bbtw\b|\biva\b|tax *id|mwst[\w.\- ]*nr|n° *de *tva",
    re.IGNORECASE,
)
_PARTY_BLOCK_LINES = 8
_BUYER_BLOCK_WEIGHT = 0.5
_BUYER_WORDS = re.compile(r"\b(?:kunde|käufer|ihre|your|uw|client|customer|buyer|acheteur|empfänger)", re.IGNORECASE)
_COMPANY = re.compile(  # case-sensitive on purpose: "Sa 8.00-14.00 Uhr" is not a société anonyme
    r"\b(?:GmbH|GMBH|AG|KG|e\.\s?V\.|a\.\s?G\.|B\.V\.|BV|N\.V\.|SAS|SARL|S\.A\.|SA|Ltd\.?|LTD|Limited|Inc\.?|INC"
    r"|LLC|PLC|plc|S\.r\.l\.|AB|Oy)(?![\w])"
)
_FRENCH_LEGAL_FORM = re.compile(r"[ ,]+(SARL|SAS|SASU|EURL|SA|SNC|SCI)$")
# A caption stands alone on its line, or is followed only by another column (layout text keeps columns apart by
# a run of spaces: 'Rechnungsempfänger          Kundennummer  GE2020211').
_NEXT_COLUMN = r"(?: *$| {3,}\S[^\n]*$)"
_SELLER_CAPTION = re.compile(
    r"^ *(?:lieferant|rechnungsersteller|verkäufer|seller|vendor|supplier|from|absender|fournisseur|émetteur"
    r"|vendeur) *:?" + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
_BUYER_CAPTION = re.compile(
    r"^ *(?:käufer(?:/leistungsempfänger)?|rechnungsempfänger|leistungsempfänger|bill +to|invoice +to|sold +to"
    r"|customer|client|buyer|acheteur|facturé +à|adresse +de +facturation|destinataire|factuuradres|adressat) *:?"
    + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
# Goods usually go to the buyer: a weaker hint than a billing caption.
_DELIVERY_CAPTION = re.compile(
    r"^ *(?:adresse +de +livraison|lieferanschrift|ship +to|delivery +address|afleveradres) *:?" + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
# The address window of a letter: after the sender's one-line return address or a salutation comes the addressee.
_ADDRESS_WINDOW = re.compile(
    r"^[^\n]{3,80}(?:●|•|·| \| )[^\n]*\d{4,5}[^\n]*$|^ *(?:herrn?|frau|mr\.?|mrs\.?|monsieur|madame) *$",
    re.IGNORECASE | re.MULTILINE,
)
_TITLE = re.compile(r"^(?:invoice|rechnung|facture|factuur|credit note|gutschrift|avoir|receipt|tax invoice)\b", re.I)
_KEY_VALUE = re.compile(r"^[\w .\-/()]{1,30}:")
_NAME_KEY = re.compile(r"^(?:name|nom|naam|firma|company|raison sociale) *: *", re.IGNORECASE)
_SALUTATION = re.compile(r"^(?:herrn?|frau|mr\.?|mrs\.?|ms\.?|monsieur|madame|m\.|mme)$", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"^(?:GLN|www\.|http|ATTN)|\d|@", re.IGNORECASE)
_COLUMN_GAP = re.compile(r" {3,}|●|\||\t| - ")
_CURRENCY_TOKEN = re.compile(r"(?<![A-Z])(EUR|USD|GBP|INR|PLN|CHF)(?![A-Z])|(€|\$|£|₹)|(?<![A-Za-z])(Rs)\.?(?= *-?\d)")
_RATE = re.compile(
    r"\b(?:mwst|ust|vat|tva|btw|tax|steuer|versicherungsteuer)\b[^\n%]{0,25}?(\d{1,2}(?:[.,]\d{1,2})?) *%",
    re.IGNORECASE,
)


def extract_invoice(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    """Rules-tier candidates for the invoice fields this tier knows how to find."""
    dates = partial(_iso_date, month_first=_writes_month_first(pages))
    found: dict[str, Candidate | None] = {
        "invoice_number": best(own_numbers(pages, _INVOICE_NUMBER.candidates(pages))),
        "issue_date": best(issue_dates(pages, replace(_ISSUE_DATE, normalize=dates).candidates(pages)))
        or _first_date(pages, dates),
        "due_date": replace(_DUE_DATE, normalize=dates).find(pages),
        "iban": _iban(pages),
        "seller_vat_id": _seller_vat_id(pages),
        "currency": _currency(pages),
        "seller_name": (seller := _without_separate_legal_form(_seller_name(pages), pages)),
        "seller_address": _seller_address(pages, seller) if pages else None,
        "buyer_name": _name_under(pages, _BUYER_CAPTION, 0.8)
        or _name_under(pages, _DELIVERY_CAPTION, 0.6)
        or _name_under(pages, _ADDRESS_WINDOW, 0.6),
        "tax_rate": _tax_rate(pages),
        "line_items": extract_line_items(pages),
    }
    found.update(_totals(pages))
    return {name: candidate for name, candidate in found.items() if candidate is not None}


def _first_date(pages: Sequence[PageLike], dates: Callable[[str], str | None]) -> Candidate | None:
    """No date label at all: the first date on the first page is usually the issue date."""
    page = pages[0] if pages else None
    if page is None:
        return None
    found = [
        Candidate(0.5, value, page.number, match.span())
        for match in re.finditer(_DATE, page.text)
        if (value := dates(match.group(0)))
    ]
    return next(iter(issue_dates(pages, found)), None)


def _totals(pages: Sequence[PageLike]) -> dict[str, Candidate | None]:
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


def _longest_valid(
    text: str, start: int, pattern_end: int, is_valid: Callable[[str], bool], normalize: Callable[[str], str]
) -> int | None:
    """Trim a greedy match from the right until the checksum passes; pypdf glues neighbours onto ids."""
    for end in range(pattern_end, start + 7, -1):
        if text[end - 1] != " " and is_valid(normalize(text[start:end])):
            return end
    return None


def _iban(pages: Sequence[PageLike]) -> Candidate | None:
    fallback: Candidate | None = None
    for page in pages:
        for match in _IBAN.finditer(page.text):
            end = _longest_valid(page.text, match.start(), match.end(), iban_is_valid, normalize_iban)
            if end is not None:
                return Candidate(
                    0.95, normalize_iban(page.text[match.start() : end]), page.number, (match.start(), end)
                )
            if fallback is None and _IBAN_LABEL.search(page.text[max(match.start() - _LABEL_REACH, 0) : match.start()]):
                raw = match.group(0).split("  ")[0].strip()
                fallback = Candidate(0.6, normalize_iban(raw), page.number, (match.start(), match.start() + len(raw)))
    return fallback


def _seller_vat_id(pages: Sequence[PageLike]) -> Candidate | None:
    """A VAT id with a valid checksum (labelled ones first); ids on a buyer's line or inside the block under a
    buyer caption are the customer's and count for less."""
    found: list[Candidate] = []
    for page in pages:
        buyer_blocks = _blocks_under(page.text, _BUYER_CAPTION)
        for match in _VAT.finditer(page.text):
            end = _longest_valid(page.text, match.start(), match.end(), vat_id_is_valid, normalize_vat_id)
            if end is not None and page.text[end : end + 1].isdigit():
                end = None  # a valid prefix of a longer number (an IBAN's body) is not a VAT id
            line_start = page.text.rfind("\n", 0, match.start()) + 1
            line_end = page.text.find("\n", match.end())
            line = page.text[line_start : line_end if line_end >= 0 else len(page.text)]
            if _BUYER_WORDS.search(page.text[line_start : match.start()]):
                continue
            labelled = bool(_VAT_LABEL.search(line))
            weight = _BUYER_BLOCK_WEIGHT if any(a <= match.start() < b for a, b in buyer_blocks) else 1.0
            if end is not None:
                confidence = 0.95 if labelled else 0.8
                value = normalize_vat_id(page.text[match.start() : end])
                found.append(Candidate(confidence * weight, value, page.number, (match.start(), end)))
            elif labelled:
                raw = match.group(0).strip()
                found.append(Candidate(0.55 * weight, normalize_vat_id(raw), page.number, (match.start(), match.end())))
    return best(found)


def _blocks_under(text: str, caption: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of the few lines under each ``caption`` (a party's address block), ending early at a seller caption."""
    blocks = []
    for match in caption.finditer(text):
        end = match.end()
        for _ in range(_PARTY_BLOCK_LINES):
            following = text.find("\n", end + 1)
            if following < 0 or _SELLER_CAPTION.match(text, end + 1):
                break
            end = following
        blocks.append((match.start(), end))
    return blocks


def _currency(pages: Sequence[PageLike]) -> Candidate | None:
    """The most frequent currency code or symbol; codes count double since '$' is shared by many currencies."""
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, tuple[int, int]]] = {}
    for page in pages:
        for match in _CURRENCY_TOKEN.finditer(page.text):
            token = next(group for group in match.groups() if group)
            code = currency_code(token)
            if code is None:
                continue
            counts[code] += 2 if match.group(1) else 1
            first.setdefault(code, (page.number, match.span()))
    if not counts:
        return None
    code, _ = counts.most_common(1)[0]
    page_number, span = first[code]
    return Candidate(0.9 if len(counts) == 1 else 0.7, code, page_number, span)


def _tax_rate(pages: Sequence[PageLike]) -> Candidate | None:
    rates: list[Candidate] = []
    for page in pages:
        for match in _RATE.finditer(page.text):
            value = parse_amount(match.group(1))
            if value is not None and 0 < value < 30:
                rates.append(Candidate(0.85, str(value.normalize()), page.number, match.span(1)))
    distinct = {candidate.value for candidate in rates}
    if len(distinct) != 1:
        return None  # several rates: no single document rate to report
    return rates[0]


def _name_from_line(line: str) -> str | None:
    """A party name from one printed line: the 'Name:' value or the line's first column, if it looks like one."""
    text = line.strip()
    if named := _NAME_KEY.match(text):
        text = text[named.end() :]
    elif _KEY_VALUE.match(text):
        return None
    text = _COLUMN_GAP.split(text)[0].strip(" ,;:")
    if len(text) < 3 or _NOT_A_NAME.search(text) or _SALUTATION.match(text):
        return None
    return text


def _located(page: PageLike, offset: int, name: str, confidence: float) -> Candidate:
    begin = page.text.index(name, offset)
    return Candidate(confidence, name, page.number, (begin, begin + len(name)))


def _name_under(pages: Sequence[PageLike], caption: re.Pattern[str], confidence: float) -> Candidate | None:
    """The first name-like text after a caption such as 'Käufer:' or 'Bill To': on its line, or below it."""
    for page in pages[:1]:
        for match in caption.finditer(page.text):
            offset = match.end()
            for line in page.text[offset:].split("\n")[:5]:
                if name := _name_from_line(line):
                    return _located(page, offset, name, confidence)
                offset += len(line) + 1
    return None


def _seller_name(pages: Sequence[PageLike]) -> Candidate | None:
    """Below a seller caption; else the letterhead (first name-like line above the buyer's block, preferring
    one with a company suffix); else the first line anywhere with a company suffix."""
    if captioned := _name_under(pages, _SELLER_CAPTION, 0.8):
        return captioned
    if letterhead := _letterhead(pages):
        return letterhead
    for page in pages[:1]:
        offset = 0
        for line in page.text.split("\n"):
            name = _name_from_line(line)
            if name and _COMPANY.search(name) and len(name) < 60:
                return _located(page, offset, name, 0.6)
            offset += len(line) + 1
    return None


def _without_separate_legal_form(name: Candidate | None, pages: Sequence[PageLike]) -> Candidate | None:
    """'Au bon moulin SARL' -> 'Au bon moulin' when the page also states 'SARL au capital de …': French law keeps
    the dénomination sociale and the forme juridique apart (the legal mention carries the form), so the name
    proper is printed without it. German and English firm names include their suffix and are left alone."""
    if name is None or not (form := _FRENCH_LEGAL_FORM.search(name.value)):
        return name
    if not any(re.search(rf"\b{form.group(1)} +au +capital\b", page.text, re.IGNORECASE) for page in pages):
        return name
    short = name.value[: form.start()].rstrip(" ,")
    return replace(name, value=short, span=(name.span[0], name.span[0] + len(short)))


def _letterhead(pages: Sequence[PageLike]) -> Candidate | None:
    if not pages:
        return None
    page = pages[0]
    caption = _BUYER_CAPTION.search(page.text)
    head = page.text[: caption.start()] if caption else ""
    names: list[tuple[int, str]] = []
    offset = 0
    for line in head.split("\n"):
        name = _name_from_line(line)
        if name and not _TITLE.match(name) and len(name) < 60:
            names.append((offset, name))
        offset += len(line) + 1
    if not names:
        return None
    offset, name = next(((o, n) for o, n in names if _COMPANY.search(n)), names[0])
    return _located(page, offset, name, 0.55)


def _seller_address(pages: Sequence[PageLike], seller: Candidate | None) -> Candidate | None:
    """The address lines printed right under the seller's name, joined with ', '."""
    if seller is None or seller.page != pages[0].number:
        return None
    text = pages[0].text
    lines: list[tuple[str, int]] = []  # (line, end offset)
    start = text.find("\n", seller.span[1]) + 1
    end = start
    for line in text[start:].split("\n")[:_MAX_ADDRESS_LINES]:
        stripped = _COLUMN_GAP.split(line.strip())[0].strip(" ,")
        if not stripped or _KEY_VALUE.match(stripped) or _TITLE.match(stripped):
            break
        end = text.index(stripped, end) + len(stripped)
        lines.append((stripped, end))
    while lines and not re.search(r"\d", lines[-1][0]):
        lines.pop()  # an address ends with its postcode line; what follows is something else
    if not lines:
        return None
    address = ", ".join(line for line, _ in lines)
    return Candidate(min(seller.confidence, 0.6), address, pages[0].number, (start, lines[-1][1]))
