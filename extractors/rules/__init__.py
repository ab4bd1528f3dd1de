"""The rules tier: label anchors, regexes and layout heuristics. Free, deterministic, always runs first."""

from __future__ import annotations

from collections.abc import Sequence

from docval.domain import DocKind, ExtractedField
from extractors.rules.base import Page, PageLike, to_field
from extractors.rules.invoice import extract_invoice
from extractors.rules.kyc import extract_kyc

__all__ = ["Page", "PageLike", "extract_rules", "merge_views", "wants_layout"]

# Fields an invoice is not much use without: when the plain reading order leaves one missing or weak, the
# layout view is read too (``wants_layout``). Weak = found only by a generic anchor or a guess.
_HEAD_FIELDS = ("invoice_number", "issue_date", "seller_name", "buyer_name", "grand_total")
_WEAK = 0.6

_KYC_FIELDS = ("full_name", "date_of_birth", "address", "national_id", "iban")  # missing: read the layout view too
# Exotic spaces and tabs become plain spaces, one character for one, so spans still index the original text.
_SPACES = str.maketrans({c: " " for c in "\t\u00a0\u2007\u2009\u202f\u2002\u2003"})


def extract_rules(pages: Sequence[PageLike], kind: DocKind) -> dict[str, ExtractedField]:
    """Every field of ``kind`` the rules can find, as ExtractedField with tier ``rules``, page and span."""
    plain = [Page(page.number, page.text.translate(_SPACES)) for page in pages]
    if kind is DocKind.INVOICE:
        found = extract_invoice(plain)
    elif kind is DocKind.KYC_FORM:
        found = extract_kyc(plain)
    else:
        found = {}
    return {name: to_field(candidate) for name, candidate in found.items()}


def wants_layout(fields: dict[str, ExtractedField], kind: DocKind) -> bool:
    """Whether reading the layout view may pay: an invoice with a head field missing or weak, or no line items
    (tables are only reliably rows in layout mode); a KYC form with a field missing (a scanned form's ruled grid
    comes out of OCR as a column of captions and one of values, and stands in rows only in its layout view)."""
    if kind is DocKind.KYC_FORM:
        return any(name not in fields for name in _KYC_FIELDS)
    if kind is not DocKind.INVOICE:
        return False
    weak = any(name not in fields or fields[name].confidence < _WEAK for name in _HEAD_FIELDS)
    return weak or "line_items" not in fields


def merge_views(
    plain: dict[str, ExtractedField],
    layout: dict[str, ExtractedField],
    plain_pages: Sequence[PageLike],
    layout_pages: Sequence[PageLike],
) -> dict[str, ExtractedField]:
    """Per field the more confident reading; the plain one on ties. A layout reading's span is moved onto the
    same printed characters in the plain text (spans index ``PageText.text``), or dropped if they are not there.

    Layout mode keeps columns apart ('Rechnungsnr.      30064443      Kundennr.   47774') where plain text
    glues a caption to the neighbouring column's value, so a label found on its own line there earns the
    same-line confidence the plain reading could not."""
    merged = dict(plain)
    for name, field in layout.items():
        # Tables are rows only in layout mode: there the layout reading also wins ties.
        tie_wins = name == "line_items" and name in merged and field.confidence == merged[name].confidence
        if name not in merged or field.confidence > merged[name].confidence or tie_wins:
            merged[name] = field.model_copy(update={"span": _same_span(field, plain_pages, layout_pages)})
    return merged


def _same_span(
    field: ExtractedField, plain_pages: Sequence[PageLike], layout_pages: Sequence[PageLike]
) -> tuple[int, int] | None:
    if field.span is None or field.page is None:
        return None
    texts = {page.number: page.text for page in plain_pages}
    layout = {page.number: page.text for page in layout_pages}.get(field.page, "")
    printed = layout[field.span[0] : field.span[1]]
    start = texts.get(field.page, "").find(printed) if printed else -1
    return (start, start + len(printed)) if start >= 0 else None
