"""A reviewer's correction of a field value: ledgered, reflected in the outbox, and a new approval round.

The correction and the new round are appended in one transaction under the
ledger's write lock, after checking that the round the reviewer looked at is
still the open one; the new round carries the digest of the corrected
values, so approvals signed for the old values no longer count. Old and new
values reach the ledger only as keyed hashes. The person who corrected is a
maker of the corrected values: ``correctors`` lists them, and the decision's
preflight refuses an approval that would complete the round with correctors
only (the approvals core's own rules should count them too, so that the
command line refuses it as well).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from approvals.state import fold_state
from approvals.statement import fields_digest
from docval.domain import DocumentResult, ExtractedField, Tier
from docval.events import ApprovalRequestedPayload, CorrectedPayload, EntryKind
from docval.hashing import KeyedHasher
from docval.settings import Settings
from ledger import EntryDraft, Ledger, LedgerReader
from workbench.errors import WorkbenchError

__all__ = ["correct_field", "correctors"]


def correctors(history: list) -> set[str]:
    """Everyone who corrected a value of the document: makers of values that are now to be decided."""
    return {entry.data["person"] for entry in history if entry.kind == EntryKind.CORRECTED.value}


def correct_field(settings: Settings, person: str, doc: str, field: str, value: str) -> int:
    """Set ``field`` to ``value`` (tier human, confidence 1), ledger it and open a new round; the entry's seq."""
    outbox = settings.outbox / f"{doc}.json"
    result = DocumentResult.model_validate_json(outbox.read_bytes())
    if field not in result.fields:
        raise WorkbenchError(f"refused: the document has no field {field!r}")
    old = result.fields[field]
    fields = {**result.fields, field: ExtractedField(value=value, confidence=1.0, tier=Tier.HUMAN, page=old.page)}
    corrected = result.model_copy(update={"fields": fields})
    data = corrected.to_json().encode()
    digest = fields_digest(json.loads(data)["fields"])  # as the outbox shows them, like the pipeline
    hasher = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    now = datetime.now(UTC).isoformat(timespec="seconds")

    def build(reader: LedgerReader) -> list[EntryDraft]:
        history = reader.entries_for_doc(doc)
        state = fold_state(doc, history)
        if not state.waiting or state.round is None or state.deadline is None:
            raise WorkbenchError("refused: the document is not waiting for a decision; nothing can be corrected")
        requested = [e for e in history if e.kind == EntryKind.APPROVAL_REQUESTED.value][-1]
        correction = CorrectedPayload(
            person=person,
            field=field,
            old_value_hash=hasher(str(old.value), purpose="field"),
            new_value_hash=hasher(value, purpose="field"),
            round=state.round,
            at=now,
        )
        round_data = ApprovalRequestedPayload(
            approvals_required=requested.data["approvals_required"],
            deadline=requested.data["deadline"],
            queue=requested.data["queue"],
            result_sha256=hashlib.sha256(data).hexdigest(),
            round=secrets.token_hex(16),
            fields_sha256=digest,
        ).model_dump(mode="json")
        return [
            EntryDraft(EntryKind.CORRECTED, doc, person, correction.model_dump(mode="json")),
            EntryDraft(EntryKind.APPROVAL_REQUESTED, doc, "docval", round_data),
        ]

    seqs, _ = Ledger.open(settings).append_with(build)
    _write_private(outbox, data)
    return seqs[0]


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
