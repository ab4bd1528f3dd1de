"""What the decision policy sees of a document, built in one place from its fields and finding codes.

The pipeline decides with it and benchmarks measure straight-through with it, so a benchmark's figure is the
pipeline's figure only if both build the input the same way: the amount is the grand total (when it reads
as a decimal), the confidence is the lowest calibrated one (``lowest_confidence``, which the offline
verifier applies to the ledgered confidences too), and no field value goes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from docval.domain import DocKind, ExtractedField
from ledger.bundle_verify import lowest_confidence

__all__ = ["DecisionInput", "decision_amount", "decision_input"]

_AMOUNT_FIELD = "grand_total"  # the amount the policy's amount_over/amount_at_most compare


class DecisionInput(BaseModel):
    """What the policy sees: no values, only the kind, finding codes, the amount and confidences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DocKind
    finding_codes: list[str] = []
    amount: Decimal | None = None
    min_confidence: float | None = None


def decision_amount(fields: Mapping[str, ExtractedField]) -> Decimal | None:
    """The grand total as a decimal; None when it is missing or does not read as a number."""
    total = fields.get(_AMOUNT_FIELD)
    if total is None or total.value is None:
        return None
    try:
        return Decimal(str(total.value))
    except InvalidOperation:
        return None


def decision_input(kind: DocKind, fields: Mapping[str, ExtractedField], finding_codes: Iterable[str]) -> DecisionInput:
    """The policy's input for a document of ``kind`` with these extracted fields and findings."""
    return DecisionInput(
        kind=kind,
        finding_codes=sorted(set(finding_codes)),
        amount=decision_amount(fields),
        min_confidence=lowest_confidence({name: field.confidence for name, field in fields.items()}),
    )
