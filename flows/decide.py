"""Send a signed decision to a paused approval run and wait for the run's verdict in the ledger.

The CLI never decides anything itself: it hands the token to the run, and the
run's checks (flows/gate.py) write ``approval.granted`` or ``approval.refused``.
This module only waits for that entry so the user sees what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from docval.events import ApprovalPayload, EntryKind
from docval.settings import Settings
from flows.audit import Ledgers
from flows.errors import FlowError
from flows.roles import SignedDecision

__all__ = ["Outcome", "submit_and_wait"]

_VERDICT_KINDS = {EntryKind.APPROVAL_GRANTED, EntryKind.APPROVAL_REFUSED}


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    message: str


def submit_and_wait(settings: Settings, doc: str, signed: SignedDecision, *, timeout: float = 180.0) -> Outcome:
    """``timeout`` covers a run that is still starting: after a restart every waiting document's run starts at once."""
    from flows.runs import paused_run, resume_with_token

    deadline = time.monotonic() + timeout
    while paused_run(doc) is None:  # the run may still be starting or re-pausing after a previous attempt
        if time.monotonic() > deadline:
            raise FlowError(f"document {doc[:12]} has no paused approval run (is `docval up` running?)")
        time.sleep(1)
    resume_with_token(doc, signed.token())
    ledgers = Ledgers(settings)
    audit = ledgers.audit(ledgers.homes([doc]).get(doc))  # a cluster worker's shard, or the root
    while time.monotonic() < deadline:
        for entry in audit.history(doc):
            if entry.kind in _VERDICT_KINDS and entry.data.get("signature") == signed.signature:
                payload = ApprovalPayload.model_validate(entry.data)
                if payload.refused_because:
                    return Outcome(False, f"refused: {payload.refused_because} (recorded as seq {entry.seq})")
                return Outcome(True, f"{payload.decision} by {payload.user} as {payload.role} (seq {entry.seq})")
        time.sleep(0.5)
    raise FlowError(f"no verdict for document {doc[:12]} within {timeout:.0f} s; check `docval pending`")
