"""Approve or reject with the passkey, which signs SHA-256 of the approvals core's decision statement.

``/options`` builds the statement (document, the round's nonce, the digest of
the values shown, decision, reason, signer, time) and first runs the core's
rules that need no signature, so the maker, a second vote or a wrong role is
refused on screen before anybody is asked to sign (the document page runs the
same rules, ``refusals``, to offer no buttons to whom they refuse); a decided
document is refused with its outcome. ``/verify`` checks the
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

from approvals.record import record_decision
from approvals.rules import Attempt, enrolled, not_already_counted, not_the_maker, role_allowed, round_open
from approvals.state import ApprovalState, fold_state
from approvals.statement import DecisionStatement
from workbench.app import Workbench
from workbench.auth import CeremonyBody, check_signed_request, evidence, sign_request
from workbench.corrections import correctors
from workbench.deps import DocId, Guarded, SignedIn, workbench
from workbench.errors import WorkbenchError
from workbench.views import decided_outcome

__all__ = ["refusals", "router"]

router = APIRouter()
Decision = Literal["approve", "reject"]
_PREFLIGHT = (round_open, enrolled, role_allowed, not_the_maker, not_already_counted)


class DecisionBody(BaseModel):
    decision: Decision
    reason: str = Field(max_length=2000)


@router.post("/doc/{doc}/decide/options", dependencies=[Guarded])
def decide_options(request: Request, session: SignedIn, doc: DocId, body: DecisionBody) -> dict[str, Any]:
    bench = workbench(request)
    history = bench.ledger(doc).entries_for_doc(doc)
    state = fold_state(doc, history)
    settled = decided_outcome(state, history)
    if settled is not None:
        raise WorkbenchError(f"refused: this document is already {settled.summary()}; nothing is left to decide")
    if not body.reason.strip():
        raise WorkbenchError("refused: give a reason; it is kept in the ledger so an auditor can read why")
    reasons = refusals(bench, state, session.person)
    if _only_correctors(state, correctors(history), session.person, body.decision):
        reasons.append(f"{session.person} corrected values of this document and cannot be its only approver")
    if reasons:
        raise WorkbenchError("refused: " + "; ".join(reasons))
    statement = _statement(state, session.person, body.decision, bench.mask_reason(doc, body.reason.strip()))
    return sign_request(bench, session, statement.message(), "decide", {"doc": doc})


def refusals(bench: Workbench, state: ApprovalState, person: str) -> list[str]:
    """Why ``person`` may not decide the document now, by the core's rules that need no signature ([]: they may)."""
    attempt = Attempt(_statement(state, person, "approve", "-"), {}, state, bench.roster(), datetime.now(UTC))
    return [reason for rule in _PREFLIGHT if (reason := rule(attempt))]


def _statement(state: ApprovalState, person: str, decision: Decision, reason: str) -> DecisionStatement:
    """What ``person`` signs to decide this round (placeholders where the document waits for no round)."""
    return DecisionStatement(
        doc=state.doc,
        round=state.round or "0" * 32,
        fields_sha256=state.fields_sha256 or "0" * 64,
        decision=decision,
        reason=reason,
        signer=person,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


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
