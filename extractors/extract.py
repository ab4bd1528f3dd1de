"""The public entry point from a parsed PDF to typed fields with provenance.

Order: classify; the e-invoice XML when the PDF embeds one (exact, confidence
1.0); the rules tier over the visible text, always and independently, so the
XML can be cross-checked against what a person sees (over the layout view
too when the plain reading order left head fields weak); then the model
router for whatever is still missing or weak.
"""

from __future__ import annotations

import logging

from docval.domain import DocKind, ExtractedField, Finding
from extractors.classify import classify
from extractors.einvoice import cross_check, parse_einvoice
from extractors.pdf import IngestError, PdfDocument
from extractors.router import Router
from extractors.rules import extract_rules, merge_views, wants_layout
from extractors.schemas import Extraction

__all__ = ["extract"]

log = logging.getLogger(__name__)


def extract(document: PdfDocument, router: Router, *, einvoice: bool = True) -> Extraction:
    """Fields of ``document`` by the cheapest tier that is confident enough; models see only weak fields.

    ``einvoice=False`` ignores embedded XML (eval scores the text tiers against that very XML)."""
    pages = list(document.pages)
    xml_fields = _einvoice_fields(document) if einvoice else {}
    kind = DocKind.INVOICE if xml_fields else classify(page.text for page in pages).kind
    text_fields = extract_rules(pages, kind)
    if wants_layout(text_fields, kind) and (layout := document.layout_pages()) is not None:
        text_fields = merge_views(text_fields, extract_rules(layout, kind), pages, layout)
    findings: list[Finding] = cross_check(xml_fields, text_fields, document.text) if xml_fields else []
    routed = router.escalate(kind, pages, {**text_fields, **xml_fields})
    return Extraction(
        kind=kind,
        fields=routed.fields,
        findings=findings,
        calls=routed.calls,
        prompt_versions=routed.prompt_versions,
        needs_review=routed.needs_review,
        review_reason=routed.review_reason,
    )


def _einvoice_fields(document: PdfDocument) -> dict[str, ExtractedField]:
    """The XML tier, or nothing when there is no XML or it is unusable (the text tiers then carry the document)."""
    if document.einvoice_xml is None:
        return {}
    try:
        return parse_einvoice(document.einvoice_xml)
    except IngestError as exc:
        log.warning("embedded e-invoice ignored: %s", exc.code)
        return {}
