"""What each ledger entry kind means and what its ``data`` holds.

flows/ (and the CLI) write these entries; reports/ and auditors read them.
Both sides use these models so a field renamed on one side fails loudly on
the other. ``data`` never holds raw personal data or document text: only ids,
codes, counts, pseudonyms and keyed hashes (``docval.hashing.KeyedHasher``).
Every payload model forbids unknown keys for the same reason.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from docval.domain import DocKind, DocState, Finding, ModelCall, Outcome

__all__ = [
    "PERSON_ATTRIBUTED",
    "AnchorCheckpointPayload",
    "AnchorRefusedPayload",
    "ApprovalRequestedPayload",
    "BudgetExceededPayload",
    "ClaimedPayload",
    "ConfigAppliedPayload",
    "CorrectedPayload",
    "DecidedPayload",
    "DuplicatePayload",
    "EntryKind",
    "EscalatedPayload",
    "EvalGatePayload",
    "ExtractedPayload",
    "FinalPayload",
    "IngestedPayload",
    "KeyRotatedPayload",
    "MaskedPayload",
    "OriginalViewedPayload",
    "PiiErasedPayload",
    "PiiRevealedPayload",
    "QuarantinedPayload",
    "ReportGeneratedPayload",
    "SessionPayload",
    "ValidatedPayload",
]


class EntryKind(StrEnum):
    # document lifecycle (doc = document id)
    CLAIMED = "doc.claimed"
    DUPLICATE = "doc.duplicate"
    INGESTED = "doc.ingested"
    QUARANTINED = "doc.quarantined"
    EXTRACTED = "doc.extracted"
    VALIDATED = "doc.validated"
    MASKED = "doc.masked"
    DECIDED = "doc.decided"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_GRANTED = "approval.granted"  # a counted, signed decision (payload: approvals.entries)
    APPROVAL_REFUSED = "approval.refused"  # an attempt a rule refused, with every reason (approvals.entries)
    APPROVAL_ESCALATED = "approval.escalated"
    PUBLISHED = "doc.published"
    REJECTED = "doc.rejected"
    # installation events (doc = null unless the event concerns one document)
    PII_REVEALED = "pii.revealed"
    PII_ERASED = "pii.erased"
    KEY_ROTATED = "key.rotated"
    REPORT_GENERATED = "report.generated"
    ANCHOR_CHECKPOINT = "anchor.checkpoint"  # root ledger: a shard's signed checkpoint, proven consistent
    ANCHOR_REFUSED = "anchor.refused"  # root ledger: a shard checkpoint that forked, rolled back or failed to verify
    NOTE = "note"  # free-form operator/demo entry
    # what the auditor report needs besides the document lifecycle (added by reports/)
    BUDGET_EXCEEDED = "budget.exceeded"  # doc set for a per-document budget, null for the per-day one
    CONFIG_APPLIED = "config.applied"  # a policy/roles/pii/prompt file version came into force
    EVAL_GATE = "eval.gate"  # an extraction eval run that gates a config or prompt change
    # the reviewer workbench (workbench/): who signed in, and who looked at an original
    SESSION_SIGNED_IN = "session.signed_in"
    SESSION_REFUSED = "session.refused"  # a failed sign-in, with a stable reason code
    SESSION_SIGNED_OUT = "session.signed_out"
    ORIGINAL_VIEWED = "original.viewed"  # a person saw page images of an unmasked original
    CORRECTED = "doc.corrected"  # a reviewer corrected a field value; a new approval round follows
    # people (approvals/): an admin-signed roster change
    PERSON_CHANGED = "person.changed"


# Kinds whose actor is a person: only the approvals core writes them, after checking that person's signature;
# ``docval ledger append`` refuses them.
PERSON_ATTRIBUTED = frozenset(
    {
        EntryKind.PERSON_CHANGED,
        EntryKind.APPROVAL_GRANTED,
        EntryKind.PII_REVEALED,
        EntryKind.PII_ERASED,
        EntryKind.KEY_ROTATED,
    }
)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClaimedPayload(_Payload):
    source_hash: str = Field(description="Keyed hash of the inbox file name (names can hold PII).")
    size: int


class DuplicatePayload(_Payload):
    of_doc: str
    reason: str = Field(description="same_bytes | same_seller_and_number")


class QuarantinedPayload(_Payload):
    reason: str = Field(description="Stable code: ENCRYPTED, MALFORMED, TOO_LARGE, TIMEOUT, NOT_PDF, ...")
    stage: str
    detail: str = Field("", description="Technical detail without document content.")


class IngestedPayload(_Payload):
    pages: int
    text_pages: int
    ocr_pages: int


class ExtractedPayload(_Payload):
    kind: DocKind
    fields: dict[str, dict] = Field(description="name -> {tier, confidence, page, value_hash}")
    calls: list[ModelCall] = []
    prompt_versions: dict[str, str] = {}
    tokens: int = 0
    usd: float = 0.0
    needs_review: bool = False
    review_reason: str | None = Field(None, description="e.g. a model budget was exhausted; never content.")


class ValidatedPayload(_Payload):
    findings: list[Finding]


class MaskedPayload(_Payload):
    entities: dict[str, int] = Field(description="entity type -> count masked")
    subjects: list[str] = Field([], description="Keyed hashes of the data subjects touched.")


class PiiRevealedPayload(_Payload):
    """``pii.revealed``: who re-identified what (the entry's ``doc`` names the document). Never the value."""

    user: str
    role: str
    token: str = Field(description="The pseudonym revealed, or '<n> tokens' for a whole text.")
    subject: str | None = Field(None, description="Keyed hash of the data subject.")
    revealed_at: str = Field(description="RFC 3339 UTC.")
    statement: dict | None = Field(None, description="approvals.statement.RevealStatement the reader signed.")
    signature: dict | None = Field(None, description="The reader's signature over it (approvals.signatures).")


class PiiErasedPayload(_Payload):
    """``pii.erased``: a data subject's key was destroyed (crypto-shredding)."""

    subject: str = Field(description="Keyed hash of the data subject.")
    entries: int = Field(ge=0, description="Vault entries made unrecoverable.")
    key_destroyed: bool = Field(description="False when there was nothing left to erase (idempotent re-run).")
    erased_at: str = Field(description="RFC 3339 UTC.")
    statement: dict | None = Field(None, description="approvals.statement.EraseStatement the pii_reader signed.")
    signature: dict | None = Field(None, description="Their signature over it (approvals.signatures).")


class DecidedPayload(_Payload):
    outcome: Outcome
    rule: str = Field(description="Name of the policy rule that decided.")
    approvals_required: int = 0
    amount: str | None = Field(None, description="Grand total as a decimal string, if any.")
    deadline: str | None = Field(None, description="RFC 3339 approval deadline, if approval is needed.")
    policy: str = Field("", description="Version (SHA-256) of the policy that decided.")


class EscalatedPayload(_Payload):
    deadline: str
    escalated_to: str


class FinalPayload(_Payload):
    state: DocState
    result_sha256: str = Field(description="SHA-256 of the outbox JSON file.")


class ApprovalRequestedPayload(_Payload):
    """``approval.requested``: the document waits for people; its outbox file says ``awaiting_approval``."""

    approvals_required: int = Field(ge=1)
    deadline: str = Field(description="RFC 3339; missing it escalates, never approves.")
    queue: str = Field(description="Role that may decide: reviewer, or senior_reviewer once escalated.")
    result_sha256: str = Field(description="SHA-256 of the awaiting_approval outbox JSON.")
    round: str = Field(description="Random id of this approval round; decision statements name it (and so its nonce).")
    fields_sha256: str = Field(description="approvals.statement.fields_digest of the outbox fields decided on.")


class BudgetExceededPayload(_Payload):
    scope: str = Field(description="document | day")
    tier: str = Field(description="Tier whose call would have exceeded the budget.")
    limit_usd: str = Field(description="Budget as a decimal string.")
    spent_usd: str = Field(description="Spent so far, decimal string.")
    action: str = Field(description="What happened instead: fallback | skipped | quarantined.")


class ConfigAppliedPayload(_Payload):
    name: str = Field(description="policy | roles | pii | prompt:<name> | ...")
    version: str
    sha256: str = Field(description="SHA-256 of the file or prompt text now in force.")
    content: dict[str, Any] | None = Field(
        None, description="policy: the parsed policy as JSON (no PII), so verify.py re-derives every auto-decision."
    )
    statement: dict[str, Any] | None = Field(None, description="policy: the admins' signed PolicyStatement.")
    signatures: list[dict[str, Any]] | None = Field(None, description="policy: [{signer, signature}] of admins.")


class EvalGatePayload(_Payload):
    suite: str
    metric: str
    value: float
    threshold: float
    passed: bool
    config_versions: dict[str, str] = Field({}, description="name -> version evaluated.")


class ReportGeneratedPayload(_Payload):
    period_from: str
    period_to: str
    checkpoint_size: int
    report_sha256: str = Field(description="SHA-256 of report.html.")
    pdf_sha256: str
    bundle_sha256: str | None = Field(None, description="SHA-256 of the bundle zip, if one was written.")


class KeyRotatedPayload(_Payload):
    """Written by ``docval keys rotate``; verifiers follow it to the next checkpoint-signing key."""

    old_key: str = Field(description="Note verifier key in force before this entry.")
    new_key: str = Field(description="Note verifier key that signs checkpoints covering this entry.")
    handover: str = Field(description="Signed note 'docval key handover\\n<old>\\n<new>\\n', signed by both keys.")
    statement: dict | None = Field(None, description="approvals.statement.RotationStatement the admin signed.")
    signature: dict | None = Field(None, description="The admin's signature over it (approvals.signatures).")


class AnchorCheckpointPayload(_Payload):
    """``anchor.checkpoint`` (root ledger): one shard checkpoint, so the root's checkpoint commits to it.

    Carries everything an auditor needs to check it from the root alone: the signed note, the shard's trust
    anchor and the key that signed, and the RFC 9162 consistency proof from the shard's previous anchored size.
    """

    shard: str
    origin: str
    size: int = Field(ge=1)
    root: str = Field(description="Base64 root hash of the shard's first `size` entries.")
    checkpoint: str = Field(description="The shard's C2SP signed note, verbatim.")
    vkey: str = Field(description="The shard's trust anchor (first key of its ledger.vkey).")
    signer: str = Field(description="Note verifier key that signed this checkpoint (the anchor unless rotated).")
    previous_size: int = Field(ge=0, description="Size of the shard's previous anchored checkpoint; 0 if none.")
    consistency: list[str] = Field(description="Base64 RFC 9162 consistency proof from previous_size to size.")


class AnchorRefusedPayload(_Payload):
    """``anchor.refused`` (root ledger): a shard checkpoint the anchor would not fold in, and why."""

    shard: str
    origin: str
    reason: str = Field(description="Stable code: FORK, ROLLBACK, SIGNATURE, ORIGIN, TRUST_ANCHOR, UNREADABLE.")
    detail: str
    anchored_size: int = Field(ge=0, description="Size of the last checkpoint anchored for this shard; 0 if none.")
    offered_size: int | None = Field(None, description="Size of the checkpoint refused, if it could be read.")
    offered_root: str | None = None


class SessionPayload(_Payload):
    """``session.*``: a workbench sign-in, refused sign-in or sign-out. Never a cookie or token value."""

    person: str | None = Field(description="The enrolled person; None when a refused attempt named nobody known.")
    credential: str = Field(description="Fingerprint of the passkey used (SHA-256 of its COSE key), or ''.")
    reason: str | None = Field(None, description="Stable code on session.refused: UNKNOWN_CREDENTIAL, ...")
    at: str = Field(description="RFC 3339 UTC.")


class OriginalViewedPayload(_Payload):
    """``original.viewed`` (doc = the document): a person was shown page images of the unmasked original."""

    person: str
    role: str
    pages: int = Field(ge=0, description="Pages shown.")
    at: str = Field(description="RFC 3339 UTC.")


class CorrectedPayload(_Payload):
    """``doc.corrected`` (actor = the person): a field value corrected before deciding, signed with their passkey.

    ``statement`` is what was signed (``workbench.corrections.CorrectionStatement``: document, round, field,
    old and new values as keyed hashes only, signer, time); ``signature`` the WebAuthn evidence as received.
    """

    statement: dict = Field(description="The signed correction statement; its RFC 8785 bytes were signed.")
    signature: dict = Field(
        description="{'kind': 'webauthn', ...} exactly as received, challenge = SHA-256(statement)."
    )
