"""The rules tier: label anchors, regexes and layout heuristics. Free, deterministic, always runs first."""

from __future__ import annotations

from collections.abc import Sequence

from docval.domain import DocKind, ExtractedField
from extractors.rules.base import Page, PageLike, to_field
from extractors.rules.invoice import extract_invoice
from extractors.rules.kyc import extract_kyc

__all__ = ["Page", "PageLike", "extract_rules"]

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
