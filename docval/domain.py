"""Domain types shared by every package, and the outbox result format of DESIGN.md.

These are the edges between packages: extractors/ produces ``ExtractedField``
and ``Finding`` values, flows/ turns them into a ``DocumentResult`` and writes
it to ``outbox/<doc>.json``; scripts and acceptance tests read that file, so
its shape is fixed by DESIGN.md ("Result format").
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Approver",
    "Cost",
    "Decision",
    "DocKind",
    "DocState",
    "DocumentResult",
    "ExtractedField",
    "Finding",
    "LedgerSpan",
    "MaskFunction",
    "MaskedText",
    "ModelCall",
    "Outcome",
    "Tier",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocKind(StrEnum):
    INVOICE = "invoice"
    KYC_FORM = "kyc_form"
    OTHER = "other"


class Tier(StrEnum):
    """Who produced a field value, cheapest and most exact first."""

    EINVOICE = "einvoice"  # embedded Factur-X / ZUGFeRD / XRechnung XML
    RULES = "rules"
    LOCAL = "local"  # OpenAI-compatible model on localhost
    REMOTE = "remote"  # remote LLM, sees pseudonymized text only
    HUMAN = "human"


class DocState(StrEnum):
    """Where a document ended; every claimed document ends in exactly one of these."""

    PUBLISHED = "published"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"
    AWAITING_APPROVAL = "awaiting_approval"


class Outcome(StrEnum):
    AUTO_APPROVE = "auto_approve"
    NEEDS_APPROVAL = "needs_approval"
    REJECT = "reject"
    QUARANTINE = "quarantine"


class ExtractedField(_Frozen):
    """One field value with its provenance. ``value`` is JSON-ready: ISO dates, money as decimal strings."""

    value: str | int | float | bool | list | dict | None
    confidence: float = Field(ge=0.0, le=1.0)
    tier: Tier
    page: int | None = Field(None, ge=1, description="1-based page the value came from.")
    span: tuple[int, int] | None = Field(None, description="Character offsets in that page's text.")


class Finding(_Frozen):
    """A validation result. The message names fields and rules, never values: it reaches logs and the ledger."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    message: str
    fields: list[str] = []


class ModelCall(_Frozen):
    """One call to a model tier, recorded in the result and the ledger for cost and audit."""

    tier: Tier
    model: str
    prompt_sha256: str
    tokens_in: int = Field(ge=0)
    tokens_out: int = Field(ge=0)
    usd: Decimal = Field(ge=0)
    latency_ms: float = Field(ge=0)
    ok: bool
    error: str | None = None


class Approver(_Frozen):
    user: str
    role: str
    at: str | None = Field(None, description="RFC 3339 time the decision was ledgered.")


class Decision(_Frozen):
    outcome: Outcome
    rule: str | None = Field(None, description="The policy rule that routed the document.")
    policy: str | None = Field(None, description="Version (SHA-256) of the policy in force.")
    approvers: list[Approver] = Field([], description="People whose approvals counted (approvals only).")
    rejections: list[Approver] = Field([], description="People who rejected the document.")


class LedgerSpan(_Frozen):
    first_seq: int = Field(ge=0)
    last_seq: int = Field(ge=0)


class Cost(_Frozen):
    tokens: int = Field(0, ge=0)
    usd: float = Field(0.0, ge=0)


class DocumentResult(_Frozen):
    """``outbox/<doc>.json``. Personal data in ``fields`` appears only as pseudonyms."""

    doc: str = Field(pattern=r"^[0-9a-f]{64}$")
    source: str
    maker: str | None = Field(None, description="Enrolled person who made the document; null: unknown.")
    kind: DocKind
    state: DocState
    fields: dict[str, ExtractedField] = {}
    findings: list[Finding] = []
    decision: Decision
    ledger: LedgerSpan
    cost: Cost = Cost()

    def to_json(self) -> str:
        """The outbox file's text; ``span`` is internal and left out, as the fixed format has no such key."""
        return self.model_dump_json(indent=2, exclude={"fields": {"__all__": {"span"}}})


class MaskedText(_Frozen):
    """Text with personal data replaced by pseudonyms such as ``<PERSON_1>``.

    ``originals`` maps each pseudonym back to its value so an answer computed on
    the masked text can be re-identified locally. It is held in memory only:
    never log, persist or send it anywhere.
    """

    text: str
    originals: dict[str, str] = {}

    def reidentify(self, masked: str) -> str:
        """Replace pseudonyms in ``masked`` by their originals, longest token first (<X_10> before <X_1>)."""
        for token in sorted(self.originals, key=len, reverse=True):
            masked = masked.replace(token, self.originals[token])
        return masked


MaskFunction = Callable[[str], MaskedText]
"""What extractors/ calls before any text leaves the machine; pii/ provides it, flows/ injects it."""
