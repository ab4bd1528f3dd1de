"""``docval approve|reject`` end to end: sign the current round's statement, record it, start publishing.

The command never trusts a name: the signer is whoever the key is enrolled for. The reason is masked by the
PII masker before it is signed (originals go to the document's vault entries), so the ledger holds exactly
what was signed and an auditor can read why. A key nobody enrolled is still a refused, ledgered attempt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from approvals.entries import APPROVAL_REFUSED, RefusedPayload
from approvals.errors import ApprovalsError
from approvals.record import RECORDER, Recorded, read_roster, record_decision
from approvals.signers import person_for_key, ssh_signature
from approvals.state import fold_state
from approvals.statement import DecisionStatement, fields_digest
from docval.settings import Settings
from flows.approvals.enrol import root_ledger
from flows.approvals.pending import resolve_doc
from flows.approvals.states import ledger_of
from flows.audit import Ledgers
from flows.errors import FlowError
from flows.handoff import masked_by_appliance
from flows.outbox import outbox_path
from ledger import EntryDraft

if TYPE_CHECKING:
    from pii import PiiEngine

__all__ = ["Decided", "decide"]

_ENGINES: dict[Path, PiiEngine] = {}


@dataclass(frozen=True)
class Decided:
    doc: str
    shard: str | None
    recorded: Recorded | None  # None: the key is not enrolled (the refusal is ledgered all the same)
    message: str
    signed: str | None = None  # the statement bytes the key signed (masked reason), shown to the signer


def decide(settings: Settings, prefix: str, key: Path, decision: Literal["approve", "reject"], reason: str) -> Decided:
    if not reason.strip():
        raise FlowError("give a --reason: an auditor must be able to read why")
    doc = resolve_doc(settings, prefix)
    shard = Ledgers(settings).homes([doc]).get(doc)
    ledger = ledger_of(settings, shard)
    root = root_ledger(settings)
    roster = read_roster(root)  # who holds the key; the decision is checked against the roster under the lock
    try:
        signer = person_for_key(roster, key)
    except ApprovalsError as exc:
        refused = RefusedPayload(refused_because=[str(exc)]).model_dump(mode="json")
        seq = ledger.append_many([EntryDraft(APPROVAL_REFUSED, doc, RECORDER, refused)])[0]
        return Decided(doc, shard, None, f"refused: {exc} (recorded as seq {seq})")
    state = fold_state(doc, ledger.entries_for_doc(doc))
    if state.round is None:
        raise FlowError(f"document {doc[:12]} does not wait for approval")
    statement = DecisionStatement(
        doc=doc,
        round=state.round,
        fields_sha256=fields_digest(json.loads(outbox_path(settings, doc).read_bytes())["fields"]),
        decision=decision,
        reason=_masked(settings, doc, reason),
        signer=signer,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    message = statement.message()
    signature = ssh_signature(key, message)
    recorded = record_decision(ledger, statement, signature, roster_ledger=root)  # re-checked under the locks
    signed = message.decode()
    if not recorded.accepted:
        reasons = "; ".join(recorded.reasons)
        return Decided(doc, shard, recorded, f"refused (seq {recorded.seq}): {reasons}", signed)
    counted = len(recorded.state.approvals)
    status = recorded.state.outcome or f"{counted} of {recorded.state.approvals_required} approvals"
    return Decided(doc, shard, recorded, f"{decision} by {signer} recorded as seq {recorded.seq}; {status}", signed)


def _masked(settings: Settings, doc: str, reason: str) -> str:
    """The reason with personal data pseudonymised (originals in the document's vault entries).

    The running appliance masks it with its warm engine (the same recognisers and vault), which spares this
    process the Presidio import and the engine's set-up; without an appliance it is masked here.
    """
    masked = masked_by_appliance(settings, doc, reason)
    if masked is not None:
        return masked
    key = settings.data_dir.resolve()
    if key not in _ENGINES:  # loading the recognisers takes seconds: once per installation and process
        from pii import PiiEngine

        _ENGINES[key] = PiiEngine.from_settings(settings)
    return _ENGINES[key].mask_text(reason, doc=doc).text
