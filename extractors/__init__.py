"""From PDF bytes to validated, typed fields with findings (DESIGN.md steps 2-5). No Prefect here."""

from extractors.classify import Classification, classify
from extractors.einvoice import cross_check, parse_einvoice
from extractors.extract import extract
from extractors.pdf import IngestError, PageText, PdfDocument, load_pdf
from extractors.router import Router
from extractors.rules import extract_rules
from extractors.samples import SampleDoc, write_sample_inbox
from extractors.schemas import SCHEMAS, Extraction, InvoiceFields, KycFields, LineItem, field_names
from extractors.validate import duplicate_keys, identifier_is_valid, validate

__all__ = [
    "SCHEMAS",
    "Classification",
    "Extraction",
    "IngestError",
    "InvoiceFields",
    "KycFields",
    "LineItem",
    "PageText",
    "PdfDocument",
    "Router",
    "SampleDoc",
    "classify",
    "cross_check",
    "duplicate_keys",
    "extract",
    "extract_rules",
    "field_names",
    "identifier_is_valid",
    "load_pdf",
    "parse_einvoice",
    "validate",
    "write_sample_inbox",
]
