"""What the words in front of a value say it is: another date than the issue date, another document's number.

Label recognizers anchor on words such as "date", "vom" or "Rechnung Nr.",
which also head the delivery date, the order date or the number of the
invoice a correction refers to. Instead of tuning each label, a candidate is
judged by the words just before it on its line (or, for a value that starts
its line, the caption on the line above), in EN/DE/FR/NL/IT/ES: a date whose
caption speaks of delivery or supply, service, a period, an order or payment is not the
issue date; a number introduced as the one a correction or credit note
refers to, or as the buyer's routing reference (Leitweg-ID, buyer reference,
Chorus Pro service code, SdI recipient code, DIR3 unit), is not this
document's number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractors.rules.base import Candidate, PageLike

__all__ = ["caption", "issue_dates", "own_numbers"]

_REACH = 48  # characters before a value that can still be its caption
_COLUMN_GAP = re.compile(r" {3,}|\t")
_COLUMN_SLACK = 2  # characters a header may stand off its value's columns
_LEADER = re.compile(r"[ \t]*\.{3,}[ .\t]*$")  # a dotted leader between a caption and its value
_DATE_LIKE = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{2,4}")

# Dates that are not the issue date: delivery or supply / service / period / order / due / payment (nouns and the
# verbs of 'pay by': payer, betalen, pagar, which also reads Italian 'pagare') / validity / print dates.
_OTHER_DATE = re.compile(
    r"liefer|leistung|zeitraum|bestell|auftrag|fällig|zahl(?:bar|ung)|gültig|druck|versand"
    r"|deliver|suppl(?:y|ied)|shipp?(?:ing|ed|ment)?\b|dispatch|service|period|order|due\b|payment|pay +by|valid"
    r"|printed|livraison|fourniture|expédi|prestation|période|commande|échéance|paiement|payer|valable"
    r"|levering|geleverd|bestel|verval|betaal|betalen|periode"
    r"|consegna|fornitura|spedizion|prestazion|periodo|ordine|scadenza|pagamento"
    r"|entrega|suministr|envío|prestación|pedido|vencimiento|pago|pagar",
    re.IGNORECASE,
)
# A number this document refers to rather than its own: the invoice a correction or credit note corrects.
_REFERENCE = re.compile(
    r"(?:korrektur|gutschrift|storno|berichtigung) +(?:zu|zur|für)\b|\bzu(?:r)? +(?:rechnung|beleg)|bezug|bezieht"
    r"|ursprünglich|original|corrects?\b|correction +(?:of|to|for)|refers? +to|with +reference +to|relat(?:ed|ing) +to"
    r"|credit(?:ed)? +(?:note +)?(?:for|against|on)\b|\bsur +(?:la +)?facture|annul|en +référence|rectifi|riferimento"
    r"|\brif\.|betreft|correctie +(?:op|van)|storno +(?:di|della)|nota +(?:di|de) +cr[eé]dito +(?:su|sobre|a|per)"
    # the buyer's routing / order reference (EN 16931 BT-10), in the six label languages
    r"|leitweg|buyer +ref|käufer-?referenz|routing|r[ée]f(?:[ée]rence|\.) +(?:de +l['’])?acheteur"
    r"|code +service|referentie +koper|kopersreferentie"
    r"|codice +(?:destinatario|ipa)|referencia +(?:del +)?comprador|dir3",
    re.IGNORECASE,
)


def caption(page: PageLike, span: tuple[int, int]) -> str:
    """The text that can caption the value at ``span``: the words before it on its line since the last column gap
    or date, and, where the value starts a column (its line, or after a gap or a date), the words above it.

    The gap between a caption and its value is no column boundary and does not count against ``_REACH``: a layout
    view pads 'Delivery date:' with forty blanks before its value, and a reach counted over the blanks saw only
    'ry date:', so the delivery date passed for the issue date under the generic label 'date'.

    Above a value that starts a column only the words over its own columns count (``_header``): a layout view
    prints a header row 'Datum   Rechnungs-Nr.   Fälligkeitsdatum' over its values, and the whole line's tail
    named the due date as the caption of every value under it, the issue date too."""
    text = page.text
    line_start = text.rfind("\n", 0, span[0]) + 1
    leader = _LEADER.search(text, line_start, span[0])  # 'Ausweisnummer ........ T22000129': the caption is before
    head = text[line_start : leader.start() if leader else span[0]]
    before = head.rstrip()
    own = _since_last(before[-_REACH:], _COLUMN_GAP, _DATE_LIKE)
    if any(c.isalpha() for c in own) and not _COLUMN_GAP.search(head[len(before) :]):
        return own  # the value follows its caption on the line
    return " ".join(part for part in (own, _header(text, line_start, span)) if part)


def _since_last(text: str, *boundaries: re.Pattern[str]) -> str:
    """``text`` after the last match of any of ``boundaries`` (a column gap, a date), stripped."""
    cuts = [match.end() for pattern in boundaries for match in pattern.finditer(text)]
    return text[max(cuts, default=0) :].strip()


def _header(text: str, line_start: int, span: tuple[int, int]) -> str:
    """The column segments of the line above ``span`` that overlap the value's columns, dates cut away (a layout
    view's header row); the whole line where it has no column gaps (a plain reading's caption line)."""
    if line_start == 0:
        return ""
    above_start = text.rfind("\n", 0, line_start - 1) + 1
    above = text[above_start : line_start - 1]
    left, right = span[0] - line_start - _COLUMN_SLACK, span[1] - line_start + _COLUMN_SLACK
    bounds = [0, *(position for match in _COLUMN_GAP.finditer(above) for position in match.span()), len(above)]
    segments = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    over = [above[a:b] for a, b in segments if len(segments) == 1 or (a < right and b > left)]
    return _since_last(" ".join(part.strip() for part in over).strip()[-_REACH:], _DATE_LIKE)


def _page(pages: Sequence[PageLike], number: int) -> PageLike | None:
    return next((page for page in pages if page.number == number), None)


def _keep(pages: Sequence[PageLike], candidates: list[Candidate], unwanted: re.Pattern[str]) -> list[Candidate]:
    kept = []
    for candidate in candidates:
        page = _page(pages, candidate.page)
        if page is None or not unwanted.search(caption(page, candidate.span)):
            kept.append(candidate)
    return kept


def issue_dates(pages: Sequence[PageLike], candidates: list[Candidate]) -> list[Candidate]:
    """The date candidates whose caption does not name another kind of date."""
    return _keep(pages, candidates, _OTHER_DATE)


def own_numbers(pages: Sequence[PageLike], candidates: list[Candidate]) -> list[Candidate]:
    """The number candidates not introduced as the number of another document (the invoice a correction refers to)."""
    return _keep(pages, candidates, _REFERENCE)
