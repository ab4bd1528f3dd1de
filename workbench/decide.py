"""Approve or reject with the passkey, which signs SHA-256 of the approvals core's decision statement.

``/options`` builds the statement (document, the round's nonce, the digest of
the values shown, decision, reason, signer, time) and first runs the core's
rules that need no signature, so the maker, a second vote or a wrong role is
refused on screen before anybody is asked to sign. ``/verify`` checks the
assertion, then hands the statement and the exact bytes received to the core,
which re-checks everything under the ledger's write lock and ledgers the
verdict; a decided document is handed to the injected publish function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from approvals.record import read_roster, record_decision
from approvals.rules import Attempt, enrolled, not_already_counted, not_the_maker, role_allowed, round_open
from approvals.state import ApprovalState, fold_state
from approvals.statement import DecisionStatement
from workbench.auth import CeremonyBody, check_signed_request, evidence, sign_request
from workbench.corrections import correctors
from workbench.deps import DocId, Guarded, SignedIn, workbench
from workbench.errors import WorkbenchError

__all__ = ["router"]

router = APIRouter()
_PREFLIGHT = (round_open, enrolled, role_allowed, not_the_maker, not_already_counted)


class DecisionBody(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(max_length=2000)


@router.post("/doc/{doc}/decide/options", dependencies=[Guarded])
def decide_options(request: Request, session: SignedIn, doc: DocId, body: DecisionBody) -> dict[str, Any]:
    bench = workbench(request)
    if not body.reason.strip():
        raise WorkbenchError("refused: give a reason; it is kept in the ledger so an auditor can read why")
    history = bench.ledger(doc).entries_for_doc(doc)
    state = fold_state(doc, history)
    statement = DecisionStatement(
        doc=doc,
        round=state.round or "0" * 32,
        fields_sha256=state.fields_sha256 or "0" * 64,
        decision=body.decision,
        reason=bench.mask_reason(doc, body.reason.strip()),
        signer=session.person,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    attempt = Attempt(statement, {}, state, read_roster(bench.root), datetime.now(UTC))
    reasons = [reason for rule in _PREFLIGHT if (reason := rule(attempt))]
    if _only_correctors(state, correctors(history), session.person, body.decision):
        reasons.append(f"{session.person} corrected values of this document and cannot be its only approver")
    if reasons:
        raise WorkbenchError("refused: " + "; ".join(reasons))
    return sign_request(bench, session, statement.message(), "decide", {"doc": doc})


def _only_correctors(state: ApprovalState, makers: set[str], person: str, decision: str) -> bool:
    """Would this approval complete the round with nobody but people who corrected its values?"""
    approvers = {counted.person for counted in state.approvals} | {person}
    completes = len(state.approvals) + 1 >= state.approvals_required
    return decision == "approve" and completes and approvers <= makers


@router.post("/doc/{doc}/decide/verify", dependencies=[Guarded])
def decide_verify(request: Request, session: SignedIn, doc: DocId, body: CeremonyBody) -> JSONResponse:
    bench = workbench(request)
    pending = check_signed_request(bench, body, "decide", session, doc)
    statement = DecisionStatement.model_validate_json(pending.context["statement"])
    recorded = record_decision(bench.ledger(doc), statement, evidence(body), roster_ledger=bench.root)
    if not recorded.accepted:
        return JSONResponse(
            {"error": f"refused (ledgered as seq {recorded.seq}): " + "; ".join(recorded.reasons)}, status_code=403
        )
    outcome = recorded.state.outcome
    after = f"the document goes to {outcome}" if outcome else f"{len(recorded.state.approvals)} approval(s) so far"
    if outcome is not None:
        try:
            bench.publish(doc)
        except Exception as exc:  # the injected publisher's own failure (Prefect down, ...): the decision stands
            after += f"; publishing did not start ({type(exc).__name__}), the appliance's sweep publishes it"
    message = f"{statement.decision} recorded as seq {recorded.seq}; {after}"
    return JSONResponse({"seq": recorded.seq, "outcome": outcome, "message": message})
