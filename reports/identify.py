"""How people know a document: its inbox name, invoice number, supplier and amount, from its outbox record.

The ledger holds ids and keyed hashes only, so an auditor reading a report of
hashes could not find the invoice they were asked about. The outbox record is
the published, already masked result (DESIGN.md, result format): its
``source`` is the inbox name after PII masking and personal values in its
fields are pseudonyms. So the report shows those, and nothing the outbox
does not already show. Only the documents a report lists are read, one small
file each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = ["UNKNOWN", "Identity", "identify"]

_REFERENCE_FIELDS = ("invoice_number",)
_PARTY_FIELDS = ("seller_name",)
_AMOUNT_FIELDS = ("grand_total",)


@dataclass(frozen=True, slots=True)
class Identity:
    source: str
    reference: str
    supplier: str
    amount: str

    @property
    def summary(self) -> str:
        """``INV-7 · ACME GmbH · 120.00 EUR``, leaving out what is unknown ("" when nothing is known)."""
        return " · ".join(part for part in (self.reference, self.supplier, self.amount) if part != "-")


UNKNOWN = Identity("-", "-", "-", "-")


def _value(fields: dict, names: tuple[str, ...]) -> str:
    for name in names:
        spec = fields.get(name)
        if isinstance(spec, dict) and spec.get("value") not in (None, ""):
            return str(spec["value"])
    return "-"


def identify(outbox: Path, doc: str) -> Identity:
    """The document's masked identity, or ``UNKNOWN`` when it has no readable outbox record (yet)."""
    try:
        record = orjson.loads((outbox / f"{doc}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return UNKNOWN
    fields = record.get("fields") if isinstance(record.get("fields"), dict) else {}
    amount = _value(fields, _AMOUNT_FIELDS)
    currency = _value(fields, ("currency",))
    return Identity(
        source=str(record.get("source") or "-"),
        reference=_value(fields, _REFERENCE_FIELDS),
        supplier=_value(fields, _PARTY_FIELDS),
        amount=f"{amount} {currency}" if amount != "-" and currency != "-" else amount,
    )
