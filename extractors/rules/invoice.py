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
from decimal import Decimal
from itertools import product

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

__all__ = ["extract_invoice"]

_DATE = (
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}"
    r"|\d{1,2}\.?[ \t]*(?:er[ \t]+)?[A-Za-zÀ-ÿ]{3,}\.?[ \t]*,?[ \t]*\d{4}"
    r"|[A-Za-zÀ-ÿ]{3,}\.?[ \t]+\d{1,2}[ \t]*,[ \t]*\d{4}"
)
_MONEY = r"[-−]?(?:(?:EUR|USD|GBP|INR|PLN|CHF|Rs\.?|€|\$|£)[ \t]*)?[-−]?(?:\d{1,3}(?:[.,'\u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?(?![\d%])(?![.,]\d)"
_NUMBER = r"(?:#[ \t]*)?(?=[A-Z0-9/_.\-]*\d)[A-Z0-9][A-Z0-9/_.\-]{2,}"


def _iso_date(raw: str) -> str | None:
    parsed = parse_date(raw)
    return parsed.isoformat() if parsed else None


def _money(raw: str) -> str | None:
    value = parse_amount(raw)
    return None if value is None else str(value)


def _number(raw: str) -> str | None:
    value = raw.strip().lstrip("#").strip().rstrip(".-/")
    return value or None


_INVOICE_NUMBER = LabelRecognizer(
    "invoice_number",
    {
        r"rechnungs?[ \t-]*(?:nummer|nr\.?|no\.?)|rechnung[ \t]+nr\.?|beleg-?nr\.?|gutschrift(?:s-?nr\.?|snummer)": 1.0,
        r"invoice[ \t]*(?:number|no\.?|nr\.?|#|id)|facture[ \t]*(?:n°|no\.?|nº|numéro)|n°[ \t]*de[ \t]*facture": 1.0,
        r"numéro[ \t]+de[ \t]+facture|factuur[ \t]*(?:nummer|nr\.?)|credit[ \t]+note[ \t]+(?:number|no\.?)": 1.0,
        r"booking[ \t]+id|bill[ \t]+no\.?|receipt[ \t]+no\.?|document[ \t]+no\.?|belegnummer": 0.85,
        r"^[ \t]*invoice[ \t]*$|^[ \t]*rechnung[ \t]*$": 0.75,
    },
    _NUMBER,
    _number,
)
_ISSUE_DATE = LabelRecognizer(
    "issue_date",
    {
        r"rechnungs-?datum|beleg-?datum|invoice[ \t]+date|date[ \t]+of[ \t]+(?:the[ \t]+)?invoice|ausstellungsdatum": 1.0,
        r"date[ \t]+de[ \t]+(?:la[ \t]+)?facture|factuur[ \t]*datum|issue[ \t]+date|date[ \t]+d['’]émission": 1.0,
        r"facture[ \t]+n\S*[ \t]*\S+[ \t]+du|gutschriftsdatum|datum[ \t]+der[ \t]+rechnung": 0.95,
        r"\bdatum\b|\bdate\b": 0.7,
    },
    _DATE,
    _iso_date,
)
_DUE_DATE = LabelRecognizer(
    "due_date",
    {
        r"due[ \t]+date|payment[ \t]+due|date[ \t]+due|fälligkeits(?:datum|tag)|fällig[ \t]+am|zahlbar[ \t]+bis": 1.0,
        r"date[ \t]+limite[ \t]+de[ \t]+paiement|date[ \t]+d['’]échéance|échéance|vervaldatum|vervaldag|due[ \t]+by": 1.0,
        r"netto[ \t]+bis|zahlungsziel|pay[ \t]+by": 0.8,
    },
    _DATE,
    _iso_date,
)
_GRAND_TOTAL = LabelRecognizer(
    "grand_total",
    {
        r"grand[ \t]+total|total[ \t]+ttc|montant[ \t]+(?:eur[ \t]+)?ttc|somme[ \t]+à[ \t]+payer|net[ \t]+à[ \t]+payer": 1.0,
        r"rechnungs(?:summe|betrag)[ \t]+brutto|brutto-?betrag|gesamtbetrag[ \t]+brutto|rechnungsbetrag|endbetrag": 1.0,
        r"zahlbetrag|zu[ \t]+zahlender[ \t]+betrag|rechnungsbeitrag|gesamtsumme|bruttosumme|summe[ \t]+brutto": 0.95,
        r"total[ \t]+amount(?:[ \t]+due)?|amount[ \t]+due|balance[ \t]+due|total[ \t]+due|invoice[ \t]+total": 0.95,
        r"total[ \t]+for[ \t]+this[ \t]+invoice|total[ \t]+facture|factuur[ \t]*totaal|gesamtbetrag": 0.9,
        r"\btotaal\b|\btotal\b(?![ \t]*(?:ht|net|hors|excl|tax|vat|tva|mwst|ust))": 0.7,
    },
    _MONEY,
    _money,
    prefer_last=True,
)
_NET_TOTAL = LabelRecognizer(
    "net_total",
    {
        r"total[ \t]+ht|montant[ \t]+(?:eur[ \t]+)?ht|total[ \t]+hors[ \t]+tax\w*|(?:rechnungs)?summe[ \t]+netto": 1.0,
        r"netto-?betrag|nettosumme|gesamt[ \t]*netto|warenwert[ \t]+netto|net[ \t]+total|total[ \t]+net": 1.0,
        r"total[ \t]+excl\w*\.?[ \t]+(?:vat|tax)|amount[ \t]+untaxed|exclusief[ \t]+btw|totaal[ \t]+excl\w*": 1.0,
        r"sub-?total|zwischensumme|gesamtbeitrag|\bnetto\b": 0.7,
    },
    _MONEY,
    _money,
    prefer_last=True,
)
_TAX_TOTAL = LabelRecognizer(
    "tax_total",
    {
        r"(?:summe[ \t]+)?(?:mwst|ust|umsatzsteuer|mehrwertsteuer)[ \t.-]*(?:betrag|summe)|steuerbetrag": 1.0,
        r"total[ \t]+(?:tax|vat|tva)|tax[ \t]+total|montant[ \t]+(?:de[ \t]+la[ \t]+)?tva|btw[ \t]+bedrag|total[ \t]+mwst": 1.0,
        r"\b(?:tva|vat|btw|mwst|ust|tax|versicherungsteuer)\b\.?[ \t]*\(?\d{1,2}(?:[.,]\d+)?[ \t]*%\)?[ \t]*:?": 0.85,
        r"\b(?:tax|vat|tva|mwst|ust|steuer|versicherungsteuer)\b": 0.6,
    },
    _MONEY,
    _money,
    prefer_last=True,
)
_TOTALS = (_NET_TOTAL, _TAX_TOTAL, _GRAND_TOTAL)

_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}")
_IBAN_LABEL = re.compile(r"iban", re.IGNORECASE)
_VAT = re.compile(
    r"(?<![A-Z0-9])(?:ATU|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
    r"[ ]?(?:[0-9A-Z][ .]?){8,13}"
)
_VAT_LABEL = re.compile(
    r"ust[\w.\- ]*id|umsatzsteuer|\bvat\b|\btva\b|\bbtw\b|\biva\b|tax[ \t]*id|mwst[\w.\- ]*nr|n°[ \t]*de[ \t]*tva",
    re.IGNORECASE,
)
_BUYER_WORDS = re.compile(r"\b(?:kunde|käufer|ihre|your|uw|client|customer|buyer|acheteur|empfänger)", re.IGNORECASE)
_COMPANY = re.compile(
    r"\b(?:GmbH|AG|KG|e\.\s?V\.|a\.\s?G\.|B\.V\.|BV|N\.V\.|SAS|SARL|S\.A\.|SA|Ltd\.?|Limited|Inc\.?|LLC|plc|S\.r\.l\.|AB|Oy)\b",
    re.IGNORECASE,
)
_SELLER_CAPTION = re.compile(
    r"^\s*(?:lieferant|rechnungsersteller|verkäufer|seller|vendor|supplier|from|absender|fournisseur|émetteur)\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BUYER_CAPTION = re.compile(
    r"^\s*(?:käufer|rechnungsempfänger|kunde|bill[ \t]+to|invoice[ \t]+to|sold[ \t]+to|customer|client|buyer"
    r"|facturé[ \t]+à|destinataire|factuuradres|adressat)\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_NOT_A_NAME = re.compile(r"^(?:GLN|Lief-?Nr|Kunden-?Nr|USt|Tel|Fax|E-?Mail|www\.|http|ATTN)|^\W*$|^\d", re.IGNORECASE)
_CURRENCY_TOKEN = re.compile(r"(?<![A-Z])(EUR|USD|GBP|INR|PLN|CHF)(?![A-Z])|(€|\$|£|₹)|(?<![A-Za-z])(Rs)\.?(?=\s*\d)")
_RATE = re.compile(
    r"\b(?:mwst|ust|vat|tva|btw|tax|steuer|versicherungsteuer)\b[^\n%]{0,25}?(\d{1,2}(?:[.,]\d{1,2})?)[ \t]*%",
    re.IGNORECASE,
)


def extract_invoice(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    """Rules-tier candidates for the invoice fields this tier knows how to find."""
    found: dict[str, Candidate | None] = {
        "invoice_number": _INVOICE_NUMBER.find(pages),
        "issue_date": _ISSUE_DATE.find(pages) or _first_date(pages),
        "due_date": _DUE_DATE.find(pages),
        "iban": _iban(pages),
        "seller_vat_id": _seller_vat_id(pages),
        "currency": _currency(pages),
        "seller_name": _seller_name(pages),
        "buyer_name": _name_under(pages, _BUYER_CAPTION, 0.8),
        "tax_rate": _tax_rate(pages),
    }
    found.update(_totals(pages))
    return {name: candidate for name, candidate in found.items() if candidate is not None}


def _first_date(pages: Sequence[PageLike]) -> Candidate | None:
    """No date label at all: the first date on the first page is usually the issue date."""
    page = pages[0] if pages else None
    if page is None:
        return None
    for match in re.finditer(_DATE, page.text):
        if value := _iso_date(match.group(0)):
            return Candidate(0.5, value, page.number, match.span())
    return None


def _totals(pages: Sequence[PageLike]) -> dict[str, Candidate | None]:
    """Pick net, tax and grand total together: a triple with net + tax = grand beats any label on its own."""
    options = [recognizer.candidates(pages) for recognizer in _TOTALS]
    singles = [best(found, prefer_last=True) for found in options]
    consistent = [
        (net, tax, grand)
        for net, tax, grand in product(*options)
        if abs(Decimal(net.value) + Decimal(tax.value) - Decimal(grand.value)) <= Decimal("0.011")
        and Decimal(grand.value) != 0
    ]
    if consistent:
        chosen = max(consistent, key=lambda triple: (sum(c.confidence for c in triple), triple[2].span[0]))
        return {
            recognizer.field_name: Candidate(max(c.confidence, 0.95), c.value, c.page, c.span)
            for recognizer, c in zip(_TOTALS, chosen, strict=True)
        }
    return {recognizer.field_name: single for recognizer, single in zip(_TOTALS, singles, strict=True)}


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
                return Candidate(0.95, normalize_iban(page.text[match.start() : end]), page.number, (match.start(), end))
            line_start = page.text.rfind("\n", 0, match.start()) + 1
            if fallback is None and _IBAN_LABEL.search(page.text[line_start : match.start()]):
                raw = match.group(0).split("  ")[0].strip()
                fallback = Candidate(0.6, normalize_iban(raw), page.number, (match.start(), match.start() + len(raw)))
    return fallback


def _seller_vat_id(pages: Sequence[PageLike]) -> Candidate | None:
    found: list[Candidate] = []
    for page in pages:
        for match in _VAT.finditer(page.text):
            end = _longest_valid(page.text, match.start(), match.end(), vat_id_is_valid, normalize_vat_id)
            line_start = page.text.rfind("\n", 0, match.start()) + 1
            line_end = page.text.find("\n", match.end())
            line = page.text[line_start : line_end if line_end >= 0 else len(page.text)]
            if _BUYER_WORDS.search(page.text[line_start : match.start()]):
                continue
            labelled = bool(_VAT_LABEL.search(line))
            if end is not None:
                confidence = 0.95 if labelled else 0.8
                value = normalize_vat_id(page.text[match.start() : end])
                found.append(Candidate(confidence, value, page.number, (match.start(), end)))
            elif labelled:
                raw = match.group(0).strip()
                found.append(Candidate(0.55, normalize_vat_id(raw), page.number, (match.start(), match.end())))
    return best(found)


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


def _name_under(pages: Sequence[PageLike], caption: re.Pattern[str], confidence: float) -> Candidate | None:
    """The first name-like line below a caption such as 'Rechnungsempfänger' or 'Bill To'."""
    for page in pages[:1]:
        for match in caption.finditer(page.text):
            offset = match.end()
            for line in page.text[offset:].split("\n")[:4]:
                start = page.text.index(line, offset) if line else offset
                offset = start + len(line)
                stripped = line.strip().rstrip(":").strip()
                if stripped and not _NOT_A_NAME.search(stripped) and len(stripped) > 2:
                    begin = start + line.index(stripped)
                    return Candidate(confidence, stripped, page.number, (begin, begin + len(stripped)))
    return None


def _seller_name(pages: Sequence[PageLike]) -> Candidate | None:
    """Below a seller caption, else the first line with a company suffix, else nothing."""
    if captioned := _name_under(pages, _SELLER_CAPTION, 0.8):
        return captioned
    for page in pages[:1]:
        offset = 0
        for line in page.text.split("\n"):
            stripped = line.strip()
            if stripped and _COMPANY.search(stripped) and len(stripped) < 60 and not _NOT_A_NAME.search(stripped):
                begin = page.text.index(stripped, offset)
                return Candidate(0.6, stripped, page.number, (begin, begin + len(stripped)))
            offset += len(line) + 1
    return None
