"""A reviewer's correction of a field value: signed, ledgered, reflected in the outbox, and a new round.

The person signs a correction statement with their passkey, as they sign
decisions: the document, the round they looked at, the field, the old and
new values as keyed hashes (the values can be personal data, and the
statement is ledgered as it was signed), themselves and the time. The
correction and a new ``approval.requested`` round (new nonce, the digest of
the corrected values) are appended in one transaction under the ledger's
write lock, after checking that the signed round is still the open one, so
approvals of the old values no longer count. The person who corrected is a
maker of the corrected values: ``correctors`` lists them, and the decision's
preflight refuses an approval that would complete the round with correctors
only (the approvals core's own rules should count them too, so that the
command line refuses it as well). The new value itself is personal data
like any other: the outbox gets it masked as the pipeline masks fields, and
the vault keeps it as a truth label for ``docval eval --corrections``,
sealed under the document's subject so that erasing the subject erases it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict

from approvals.state import fold_state
from approvals.statement import fields_digest
from docval.domain import DocumentResult, ExtractedField, Tier
from docval.events import ApprovalRequestedPayload, CorrectedPayload, EntryKind
from docval.hashing import KeyedHasher
from docval.settings import Settings
from ledger import EntryDraft, Ledger, LedgerReader
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from pii import PiiEngine

__all__ = ["CorrectionStatement", "correction_statement", "correctors", "record_correction"]


class CorrectionStatement(BaseModel):
    """What a person signs to correct one value; its canonical JSON is the signed message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: Literal["docval correction v1"] = "docval correction v1"
    doc: str
    round: str
    field: str
    old_value_hash: str
    new_value_hash: str
    signer: str
    signed_at: str

    def message(self) -> bytes:
        return rfc8785.dumps(self.model_dump(mode="json"))


def correctors(history: list) -> set[str]:
    """Everyone who corrected a value of the document: makers of values that are now to be decided."""
    return {entry.actor for entry in history if entry.kind == EntryKind.CORRECTED.value}


def correction_statement(
    settings: Settings, ledger: Ledger, person: str, doc: str, field: str, value: str
) -> CorrectionStatement:
    """What ``person`` signs to set ``field`` of ``doc`` (its history in ``ledger``) to ``value`` in the open round."""
    result = _result(settings, doc)
    if field not in result.fields:
        raise WorkbenchError(f"refused: the document has no field {field!r}")
    state = fold_state(doc, ledger.entries_for_doc(doc))
    if not state.waiting or state.round is None:
        raise WorkbenchError("refused: the document is not waiting for a decision; nothing can be corrected")
    hasher = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    return CorrectionStatement(
        doc=doc,
        round=state.round,
        field=field,
        old_value_hash=hasher(str(result.fields[field].value), purpose="field"),
        new_value_hash=hasher(value, purpose="field"),
        signer=person,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def record_correction(
    settings: Settings,
    ledger: Ledger,
    engine: PiiEngine,
    statement: CorrectionStatement,
    value: str,
    signature: dict[str, Any],
) -> int:
    """Apply a signed correction: ledger it (the document's home ``ledger``) with a new round, keep the value as
    a truth label in the vault (``docval eval --corrections``), then rewrite the outbox record with the value
    masked as the pipeline masks fields; the entry's seq."""
    doc = statement.doc
    outbox = settings.outbox / f"{doc}.json"
    result = _result(settings, doc)
    old = result.fields[statement.field]
    corrected = {statement.field: ExtractedField(value=value, confidence=1.0, tier=Tier.HUMAN, page=old.page)}
    fields = {**result.fields, **engine.mask_fields(corrected, kind=result.kind, doc=doc).fields}
    data = result.model_copy(update={"fields": fields}).to_json().encode()

    def build(reader: LedgerReader) -> list[EntryDraft]:
        history = reader.entries_for_doc(doc)
        state = fold_state(doc, history)
        if not state.waiting or state.round != statement.round:
            raise WorkbenchError("refused: the approval round changed since you signed; reload and correct again")
        requested = [e for e in history if e.kind == EntryKind.APPROVAL_REQUESTED.value][-1]
        new_round = ApprovalRequestedPayload(
            approvals_required=requested.data["approvals_required"],
            deadline=requested.data["deadline"],
            queue=requested.data["queue"],
            result_sha256=hashlib.sha256(data).hexdigest(),
            round=secrets.token_hex(16),
            fields_sha256=fields_digest(json.loads(data)["fields"]),  # as the outbox shows them, like the pipeline
        )
        correction = CorrectedPayload(statement=statement.model_dump(mode="json"), signature=signature)
        return [
            EntryDraft(EntryKind.CORRECTED, doc, statement.signer, correction.model_dump(mode="json")),
            EntryDraft(EntryKind.APPROVAL_REQUESTED, doc, "docval", new_round.model_dump(mode="json")),
        ]

    seqs, _ = ledger.append_with(build)
    engine.vault.store_label(doc, statement.field, value)
    _write_private(outbox, data)
    return seqs[0]


def _result(settings: Settings, doc: str) -> DocumentResult:
    try:
        return DocumentResult.model_validate_json((settings.outbox / f"{doc}.json").read_bytes())
    except OSError:
        raise WorkbenchError(f"no outbox record for document {doc[:12]}") from None


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
