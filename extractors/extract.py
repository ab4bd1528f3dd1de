"""The public entry point from a parsed PDF to typed fields with provenance: classify, rules, then models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from extractors.classify import classify
from extractors.router import Router
from extractors.rules import PageLike, extract_rules
from extractors.schemas import Extraction

__all__ = ["DocumentLike", "extract"]


class DocumentLike(Protocol):
    """What extraction reads of ``extractors.pdf.PdfDocument``."""

    @property
    def pages(self) -> Sequence[PageLike]: ...


def extract(document: DocumentLike, router: Router, *, einvoice: bool = True) -> Extraction:
    """Fields of ``document`` by the cheapest tier that is confident enough; models see only weak fields.

    ``einvoice=False`` ignores embedded e-invoice XML (eval scores the text tiers against that XML)."""
    pages = list(document.pages)
    kind = classify(page.text for page in pages).kind
    fields = extract_rules(pages, kind)
    routed = router.escalate(kind, pages, fields)
    return Extraction(
        kind=kind,
        fields=routed.fields,
        calls=routed.calls,
        prompt_versions=routed.prompt_versions,
        needs_review=routed.needs_review,
        review_reason=routed.review_reason,
    )
