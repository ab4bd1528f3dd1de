"""Invoice recognizers: label anchors in English, German, French and Dutch, plus layout heuristics.

The heuristics that earn most of the accuracy: totals are reconciled (the
net + tax = grand triple among all candidates wins over any single label; see
``rules.totals``), IBANs and VAT ids are accepted on checksum even without a
label (pypdf often glues a label behind its value), and names come from the
block under a seller/buyer caption or the first line carrying a company suffix
(see ``rules.parties``). This module reads the numbers, dates, ids, currency and
rate itself and assembles every field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from extractors.normalize import (
    currency_code,
    iban_is_valid,
    normalize_iban,
    normalize_vat_id,
    parse_amount,
    parse_date,
    plain_number,
    vat_id_is_valid,
    vat_id_is_well_formed,
)
from extractors.rules.base import Candidate, LabelRecognizer, PageLike, best, writes_month_first
from extractors.rules.lines import extract_line_items
from extractors.rules.meaning import issue_dates, own_numbers
from extractors.rules.parties import buyer_blocks, buyer_name, party_blocks, seller_address, seller_name
from extractors.rules.totals import totals

__all__ = ["extract_invoice"]

_DATE = (
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}"
    r"|\d{1,2}\.? *(?:er +)?[A-Za-zÀ-ÿ]{3,}\.? *,? *\d{4}"
    r"|[A-Za-zÀ-ÿ]{3,}\.? +\d{1,2} *, *\d{4}"
)
_NUMBER = r"(?:# *)?(?=[A-Z0-9/_.\-]*\d)[A-Z0-9][A-Z0-9/_.\-]{2,}"


def _iso_date(raw: str, *, month_first: bool = False) -> str | None:
    parsed = parse_date(raw, month_first=month_first)
    return parsed.isoformat() if parsed else None


def _number(raw: str) -> str | None:
    """An invoice number as printed; a bare date next to a 'Nr.' label is not one."""
    value = raw.strip().lstrip("#").strip().rstrip(".-/")
    if not value or re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", value):
        return None
    return value


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
# The bare word as the caption of its line ('Número: 4459872' under the title 'Factura'): the invoice's number,
# unless it stands in a party's block (``_outside_parties``). A qualified number ('Customer number:', 'Número de
# pedido:') is not this one.
_BARE_NUMBER = replace(_INVOICE_NUMBER, labels={r"^ *(?:number|nummer|numéro|numero|número)(?= *:)": 0.75})
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

_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}")
_IBAN_LABEL = re.compile(r"iban|bankverbindung|bank account|konto|compte|rekening", re.IGNORECASE)
_LABEL_REACH = 60  # an IBAN label may end the previous line ("... Bankverbindung: IBAN\nDE75 ...")
_VAT = re.compile(
    r"(?<![A-Z0-9])(?:ATU|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
    r"[ ]?(?:[0-9A-Z][ .]?){8,13}"
)
_VAT_LABEL = re.compile(
    r"ust[\w.\- ]*id|umsatzsteuer|\bvat\b|\btva\b|\bbtw\b|\biva\b|tax *id|mwst[\w.\- ]*nr|n° *de *tva",
    re.IGNORECASE,
)
_BUYER_BLOCK_WEIGHT = 0.5
_BUYER_WORDS = re.compile(r"\b(?:kunde|käufer|ihre|your|uw|client|customer|buyer|acheteur|empfänger)", re.IGNORECASE)
_CURRENCY_TOKEN = re.compile(r"(?<![A-Z])(EUR|USD|GBP|INR|PLN|CHF)(?![A-Z])|(€|\$|£|₹)|(?<![A-Za-z])(Rs)\.?(?= *-?\d)")
# a tax rate beside its label, after it ('MwSt. 19 %', 'IVA 21%') or before it ('zzgl. 19% MwSt.')
_RATE_WORD = r"\b(?:mwst|ust|vat|tva|btw|iva|imposta|impuesto|tax|steuer|versicherungsteuer)\b"
_RATE_NUMBER = r"(\d{1,2}(?:[.,]\d{1,2})?) *%"
_RATE = re.compile(rf"{_RATE_WORD}[^\n%]{{0,25}}?{_RATE_NUMBER}|(?<![\d.,]){_RATE_NUMBER} *{_RATE_WORD}", re.IGNORECASE)


def extract_invoice(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    """Rules-tier candidates for the invoice fields this tier knows how to find."""
    dates = partial(_iso_date, month_first=writes_month_first(pages))
    found: dict[str, Candidate | None] = {
        "invoice_number": best(
            own_numbers(
                pages, _INVOICE_NUMBER.candidates(pages) + _outside_parties(pages, _BARE_NUMBER.candidates(pages))
            )
        ),
        "issue_date": best(issue_dates(pages, replace(_ISSUE_DATE, normalize=dates).candidates(pages)))
        or _first_date(pages, dates),
        "due_date": replace(_DUE_DATE, normalize=dates).find(pages),
        "iban": _iban(pages),
        "seller_vat_id": _seller_vat_id(pages),
        "currency": _currency(pages),
        "seller_name": (seller := seller_name(pages)),
        "seller_address": seller_address(pages, seller) if pages else None,
        "buyer_name": buyer_name(pages),
        "tax_rate": _tax_rate(pages),
        "line_items": extract_line_items(pages),
    }
    found.update(totals(pages))
    return {name: candidate for name, candidate in found.items() if candidate is not None}


def _outside_parties(pages: Sequence[PageLike], candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that do not stand in a block under a party's caption (``party_blocks``); the blocks are
    looked for only on pages with a candidate, as most pages have none."""
    wanted = {c.page for c in candidates}
    blocks = {page.number: party_blocks(page.text) for page in pages if page.number in wanted}
    return [c for c in candidates if not any(a <= c.span[0] < b for a, b in blocks.get(c.page, ()))]


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
    buyer caption are the customer's and count for less. On a line with a VAT caption, an id whose check digits
    fail is read too, at a low confidence (``_failing_id``), but not an IBAN's first digits: a scan's
    'Partita IVA: 1T18292390716  IBAN: DE29 4665 7098 1650 1505 94' prints no VAT id the rules can read."""
    found: list[Candidate] = []
    for page in pages:
        buyers = buyer_blocks(page.text)
        for match in _VAT.finditer(page.text):
            end = _whole_id(page.text, match, vat_id_is_valid)
            line_start = page.text.rfind("\n", 0, match.start()) + 1
            line_end = page.text.find("\n", match.end())
            line = page.text[line_start : line_end if line_end >= 0 else len(page.text)]
            if _BUYER_WORDS.search(page.text[line_start : match.start()]):
                continue
            labelled = bool(_VAT_LABEL.search(line))
            weight = _BUYER_BLOCK_WEIGHT if any(a <= match.start() < b for a, b in buyers) else 1.0
            if end is not None:
                confidence = 0.95 if labelled else 0.8
                value = normalize_vat_id(page.text[match.start() : end])
                found.append(Candidate(confidence * weight, value, page.number, (match.start(), end)))
            elif labelled and (end := _failing_id(page.text, match)) is not None:
                value = normalize_vat_id(page.text[match.start() : end])
                found.append(Candidate(0.55 * weight, value, page.number, (match.start(), end)))
    return best(found)


def _whole_id(text: str, match: re.Match[str], accepted: Callable[[str], bool]) -> int | None:
    """Where the longest ``accepted`` prefix of ``match`` ends (``_longest_valid``), unless a digit follows it: a
    prefix of a longer number (an IBAN's body) is not a VAT id."""
    end = _longest_valid(text, match.start(), match.end(), accepted, normalize_vat_id)
    return None if end is None or text[end : end + 1].isdigit() else end


def _failing_id(text: str, match: re.Match[str]) -> int | None:
    """Where a labelled VAT id that fails its check ends: its country's form with a word glued on dropped
    ('DE394275997IBAN'), else the match as printed ('DE12345618938' is a broken id, and validation must see it);
    never a prefix of a longer number."""
    end = _whole_id(text, match, vat_id_is_well_formed)
    return end if end is not None or text[match.end() : match.end() + 1].isdigit() else match.end()


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
            group = 1 if match.group(1) else 2
            value = parse_amount(match.group(group))
            if value is not None and 0 < value < 30:
                rates.append(Candidate(0.85, plain_number(value), page.number, match.span(group)))
    distinct = {candidate.value for candidate in rates}
    if len(distinct) != 1:
        return None  # several rates: no single document rate to report
    return rates[0]
