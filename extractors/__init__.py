"""From PDF bytes to validated, typed fields with findings (DESIGN.md steps 2-5). No Prefect here."""

from docval.lazy import lazy_exports

_EXPORTS = {
    "SCHEMAS": "extractors.schemas",
    "Classification": "extractors.classify",
    "Extraction": "extractors.schemas",
    "IngestError": "extractors.pdf",
    "InvoiceFields": "extractors.schemas",
    "KycFields": "extractors.schemas",
    "LineItem": "extractors.schemas",
    "PageText": "extractors.pdf",
    "PdfDocument": "extractors.pdf",
    "Router": "extractors.router",
    "SampleDoc": "extractors.samples",
    "classify": "extractors.classify",
    "cross_check": "extractors.einvoice",
    "duplicate_keys": "extractors.validate",
    "extract": "extractors.extract",
    "extract_rules": "extractors.rules",
    "field_names": "extractors.schemas",
    "identifier_is_valid": "extractors.validate",
    "load_pdf": "extractors.pdf",
    "parse_einvoice": "extractors.einvoice",
    "validate": "extractors.validate",
    "write_sample_inbox": "extractors.samples",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
