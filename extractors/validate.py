"""Validation: checksums, arithmetic, dates, required fields and duplicates, as stable finding codes.

Extraction says what a document claims; validation says whether the claims
hold together. Every check is deterministic and offline (python-stdnum carries
its own tables), money is ``Decimal`` throughout, and every finding's message
names fields and rules only: findings reach the ledger, logs and reports,
values must not.

Codes: ``FIELD_INVALID`` (a value that does not parse as its schema type),
``MISSING_FIELD``, ``IBAN_CHECKSUM``, ``IBAN_INVALID``, ``VAT_ID_INVALID``,
``NATIONAL_ID_INVALID``, ``UNSURE_IDENTIFIER``, ``LINE_MISMATCH``,
``TOTAL_MISMATCH``, ``TAX_MISMATCH``, ``DATE_ORDER``, ``DATE_FUTURE``,
``DUPLICATE``.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

from pydantic import TypeAdapter, ValidationError
from stdnum import iban as stdnum_iban
from stdnum import vatin

from docval.domain import DocKind, Finding
from docval.hashing import KeyedHasher
from docval.settings import ExtractSettings
from docval.store import DocumentStore
from extractors.rules.lines import COMPLETE as COMPLETE_TABLE
from extractors.schemas import SCHEMAS, Extraction

__all__ = ["duplicate_keys", "duplicates", "identifier_is_valid", "typed_values", "validate"]


def validate(extraction: Extraction, *, settings: ExtractSettings, today: date | None = None) -> list[Finding]:
    """All findings for one document's fields, but ``DUPLICATE``: that one needs the store, and a batch's part asks
    it for all of its invoices at once (``duplicates``)."""
    values, findings = typed_values(extraction)
    findings += _missing(extraction.kind, values, settings)
    findings += _as_read(_identifiers(values, settings), extraction)
    findings += _dates(values, settings, today or date.today())
    if extraction.kind == DocKind.INVOICE:
        lines = extraction.fields.get("line_items")
        findings += _arithmetic(
            values, settings.total_tolerance, lines_complete=bool(lines and lines.confidence >= COMPLETE_TABLE)
        )
    return findings


def typed_values(extraction: Extraction) -> tuple[dict[str, Any], list[Finding]]:
    """Field values converted to their schema types (``date``, ``Decimal``, ``LineItem``); unparseable ones dropped.

    Tiers hand over JSON-ready values; a model may still return "tomorrow" as a
    date. Such a value becomes a ``FIELD_INVALID`` finding instead of an exception.
    """
    schema = SCHEMAS[extraction.kind].model_fields
    values: dict[str, Any] = {}
    findings: list[Finding] = []
    for name, extracted in extraction.fields.items():
        if name not in schema or extracted.value in (None, ""):
            continue
        try:
            values[name] = _adapter(extraction.kind, name).validate_python(extracted.value)
        except ValidationError:
            findings.append(Finding(code="FIELD_INVALID", message=f"{name}: not a valid value", fields=[name]))
    return values, findings


@functools.cache
def _adapter(kind: DocKind, name: str) -> TypeAdapter[Any]:
    """The validator of one schema field, built once: building a ``TypeAdapter`` costs ~50 µs, a dozen per document."""
    return TypeAdapter(SCHEMAS[kind].model_fields[name].annotation)


def _missing(kind: DocKind, values: dict[str, Any], settings: ExtractSettings) -> list[Finding]:
    absent = [name for name in settings.required_fields.get(kind.value, ()) if values.get(name) in (None, "", [])]
    if not absent:
        return []
    return [Finding(code="MISSING_FIELD", message=f"required for {kind.value}: {', '.join(absent)}", fields=absent)]


# --- identifiers ---------------------------------------------------------------------------------------------


def identifier_is_valid(scheme: str, value: str, **options: bool) -> bool:
    """``value`` is valid under python-stdnum's ``scheme`` (module name such as ``iban``, ``eu.vat``, ``de.idnr``)."""
    return bool(_stdnum_module(scheme).is_valid(value, **options))


def _stdnum_module(scheme: str) -> ModuleType:
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,19}(\.[a-z][a-z0-9_]{1,19})?", scheme):
        raise ValueError(f"not a python-stdnum scheme name: {scheme!r}")
    return importlib.import_module(f"stdnum.{scheme}")


def _identifiers(values: dict[str, Any], settings: ExtractSettings) -> list[Finding]:
    findings = []
    if "iban" in values and not stdnum_iban.is_valid(values["iban"]):
        if _only_check_digits_wrong(values["iban"]):
            findings.append(Finding(code="IBAN_CHECKSUM", message="iban: check digits do not match", fields=["iban"]))
        else:
            findings.append(Finding(code="IBAN_INVALID", message="iban: not a well-formed IBAN", fields=["iban"]))
    if "seller_vat_id" in values and not vatin.is_valid(values["seller_vat_id"]):
        findings.append(
            Finding(code="VAT_ID_INVALID", message="seller_vat_id: fails its country's check", fields=["seller_vat_id"])
        )
    scheme = _national_id_scheme(values.get("national_id_scheme"), settings.national_id_scheme)
    if "national_id" in values and scheme and not identifier_is_valid(scheme, values["national_id"]):
        findings.append(
            Finding(
                code="NATIONAL_ID_INVALID", message=f"national_id: fails the {scheme} check", fields=["national_id"]
            )
        )
    return findings


_SURE_READING = 0.5  # a field's confidence (the probability that it was read right) from which a failed check counts


def _as_read(findings: list[Finding], extraction: Extraction) -> list[Finding]:
    """Identifier findings on readings more likely wrong than right become ``UNSURE_IDENTIFIER``.

    A failed check digit proves a broken IBAN only if the IBAN was read right. On scans of unseen layouts, the
    identifiers that failed their check were read right 8 % of the time (their calibrated confidence): tesseract
    took an O for a 0. The default policy rejects on ``IBAN_CHECKSUM`` and ``VAT_ID_INVALID``, so an honest
    scanned invoice was rejected for its scanner's noise; ``UNSURE_IDENTIFIER`` sends it to a person, who
    compares the value with the page."""
    kept = []
    for finding in findings:
        [name] = finding.fields
        confidence = extraction.fields[name].confidence
        if confidence >= _SURE_READING:
            kept.append(finding)
            continue
        message = f"{name}: fails its check as read, but readings this sure are right {confidence:.0%} of the time"
        kept.append(Finding(code="UNSURE_IDENTIFIER", message=f"{message}; compare it with the page", fields=[name]))
    return kept


def _national_id_scheme(indicated: str | None, configured: str) -> str:
    """The scheme the document indicates (``rules.kyc``: caption or country), else ("default") the installation's,
    so a valid Dutch BSN is not an invalid German tax id; "none" (an ID-card number) checks nothing. An indication
    that is no python-stdnum module (a model tier's free text) is ignored."""
    if indicated == "none":
        return ""
    if indicated and indicated != "default":
        try:
            _stdnum_module(indicated)
            return indicated
        except (ValueError, ImportError):
            pass
    return configured


# --- dates ---------------------------------------------------------------------------------------------------


def _only_check_digits_wrong(value: str) -> bool:
    """True when the IBAN is well-formed for its country and only the mod-97 check digits fail (a typo or tamper).

    stdnum checks the checksum before the length, so a truncated IBAN would otherwise count as a checksum error.
    """
    compact = stdnum_iban.compact(value)
    repaired = compact[:2] + stdnum_iban.calc_check_digits(compact) + compact[4:]
    return stdnum_iban.is_valid(repaired)


def _dates(values: dict[str, Any], settings: ExtractSettings, today: date) -> list[Finding]:
    findings = []
    issue, due = values.get("issue_date"), values.get("due_date")
    if issue and due and due < issue:
        findings.append(
            Finding(code="DATE_ORDER", message="due_date is before issue_date", fields=["issue_date", "due_date"])
        )
    horizon = today + timedelta(days=settings.max_future_days)
    # A due date may legitimately lie a payment term ahead; issue dates and birthdays may not.
    limits = {"issue_date": horizon, "date_of_birth": today, "due_date": horizon + timedelta(days=365)}
    for name, latest in limits.items():
        if values.get(name) and values[name] > latest:
            findings.append(Finding(code="DATE_FUTURE", message=f"{name} lies too far in the future", fields=[name]))
    return findings


# --- arithmetic ----------------------------------------------------------------------------------------------


def _arithmetic(values: dict[str, Any], tolerance: Decimal, *, lines_complete: bool = True) -> list[Finding]:
    """Line, total and tax arithmetic. The rows' sum is held against the net total only when the rows are
    believed complete (``lines_complete``: the XML's, or a rules table read whole): a table the rules
    read in part would otherwise raise LINE_MISMATCH on honest invoices."""
    findings = []
    lines = values.get("line_items") or []
    for number, line in enumerate(lines, start=1):
        complete = None not in (line.quantity, line.unit_price, line.amount)
        if complete and abs(line.quantity * line.unit_price - line.amount) > tolerance:
            findings.append(
                Finding(
                    code="LINE_MISMATCH",
                    message=f"line_items[{number}]: quantity x unit_price differs from amount",
                    fields=["line_items"],
                )
            )
    net, tax, total, rate = (values.get(k) for k in ("net_total", "tax_total", "grand_total", "tax_rate"))
    amounts = [line.amount for line in lines]
    if lines_complete and net is not None and amounts and None not in amounts and abs(sum(amounts) - net) > tolerance:
        findings.append(
            Finding(
                code="LINE_MISMATCH",
                message="line_items amounts do not add up to net_total",
                fields=["line_items", "net_total"],
            )
        )
    if None not in (net, tax, total) and abs(net + tax - total) > tolerance:
        findings.append(
            Finding(
                code="TOTAL_MISMATCH",
                message="net_total + tax_total differs from grand_total",
                fields=["net_total", "tax_total", "grand_total"],
            )
        )
    if None not in (net, tax, rate) and abs(net * rate / 100 - tax) > tolerance:
        findings.append(
            Finding(
                code="TAX_MISMATCH",
                message="net_total x tax_rate differs from tax_total",
                fields=["net_total", "tax_rate", "tax_total"],
            )
        )
    return findings


# --- duplicates ----------------------------------------------------------------------------------------------


def duplicate_keys(extraction: Extraction, hasher: KeyedHasher) -> tuple[str, str] | None:
    """Keyed hashes of (seller, invoice number): the store links documents without holding either value.

    The seller is its VAT id when present (names vary in spelling), else its name.
    """
    fields = extraction.fields
    number = fields.get("invoice_number")
    seller = fields.get("seller_vat_id") or fields.get("seller_name")
    if number is None or seller is None or not number.value or not seller.value:
        return None
    seller_id = re.sub(r"[\s.-]", "", str(seller.value)).upper()
    number_id = re.sub(r"\s", "", str(number.value)).upper()
    return hasher(seller_id, purpose="invoice-seller"), hasher(number_id, purpose="invoice-number")


def duplicates(
    extractions: Mapping[str, Extraction], store: DocumentStore, hasher: KeyedHasher
) -> dict[str, list[Finding]]:
    """``DUPLICATE`` findings of documents by id, their invoices' keys recorded on their (already claimed) store rows
    so that later documents find them; one update and one query for them all (``DocumentStore.mark_invoices``)."""
    keys = {
        doc: found
        for doc, extraction in extractions.items()
        if extraction.kind == DocKind.INVOICE and (found := duplicate_keys(extraction, hasher)) is not None
    }
    return {
        doc: [
            Finding(
                code="DUPLICATE",
                message=f"same seller and invoice_number as earlier document {earlier[:12]}",
                fields=[
                    "seller_vat_id" if "seller_vat_id" in extractions[doc].fields else "seller_name",
                    "invoice_number",
                ],
            )
        ]
        for doc, earlier in store.mark_invoices(keys).items()
    }
