"""One pydantic schema per document kind: which fields exist and what type each value has.

Every tier (e-invoice XML, rules, local model, remote model) fills the same
field names, so their answers can be compared, merged and cross-checked.
Values are normalised to these types before validation: dates as ``date``,
money and rates as ``Decimal``; the outbox serialises them as ISO strings and
decimal strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from docval.domain import DocKind, ExtractedField, Finding, ModelCall

__all__ = ["SCHEMAS", "Extraction", "InvoiceFields", "KycFields", "LineItem", "field_names"]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineItem(_Schema):
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None


class InvoiceFields(_Schema):
    invoice_number: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    seller_name: str | None = None
    seller_vat_id: str | None = None
    seller_address: str | None = None
    buyer_name: str | None = None
    iban: str | None = None
    currency: str | None = None
    line_items: list[LineItem] | None = None
    net_total: Decimal | None = None
    tax_rate: Decimal | None = None  # percent, e.g. Decimal("19")
    tax_total: Decimal | None = None
    grand_total: Decimal | None = None


class KycFields(_Schema):
    full_name: str | None = None
    date_of_birth: date | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    passport_number: str | None = None
    national_id: str | None = None
    # python-stdnum module the id's caption or the document's country names ("nl.bsn"), "none" for an ID-card
    # number without a check-digit scheme, "default" (or absent) for the installation's ``national_id_scheme``.
    national_id_scheme: str | None = None
    iban: str | None = None


class OtherFields(_Schema):
    """Documents of no known kind carry no fields; they are classified and routed to a person."""


SCHEMAS: dict[DocKind, type[_Schema]] = {
    DocKind.INVOICE: InvoiceFields,
    DocKind.KYC_FORM: KycFields,
    DocKind.OTHER: OtherFields,
}


def field_names(kind: DocKind) -> list[str]:
    return list(SCHEMAS[kind].model_fields)


class Extraction(BaseModel):
    """What extraction hands to validation and the flow: fields with provenance, and the cost of getting them."""

    kind: DocKind
    fields: dict[str, ExtractedField] = {}
    findings: list[Finding] = []  # raised during extraction: EINVOICE_MISMATCH (XML vs visible text)
    calls: list[ModelCall] = []
    prompt_versions: dict[str, str] = {}
    needs_review: bool = False
    review_reason: str | None = None
