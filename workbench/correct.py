"""Correcting a value before deciding, signed with the passkey like a decision (workbench.corrections)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from workbench.auth import CeremonyBody, check_signed_request, evidence, sign_request
from workbench.corrections import CorrectionStatement, correction_statement, record_correction
from workbench.deps import DocId, Guarded, SignedIn, workbench
from workbench.errors import WorkbenchError

__all__ = ["router"]

router = APIRouter()
CORRECTING_ROLES = frozenset({"reviewer", "senior_reviewer"})


class CorrectionBody(BaseModel):
    field: str = Field(max_length=100)
    value: str = Field(min_length=1, max_length=500)


@router.post("/doc/{doc}/correct/options", dependencies=[Guarded])
def correct_options(request: Request, session: SignedIn, doc: DocId, body: CorrectionBody) -> dict[str, Any]:
    if not CORRECTING_ROLES & set(session.roles):
        raise WorkbenchError("refused: only a reviewer or senior_reviewer may correct values")
    bench = workbench(request)
    value = body.value.strip()
    statement = correction_statement(bench.settings, bench.ledger(doc), session.person, doc, body.field, value)
    return sign_request(bench, session, statement.message(), "correct", {"doc": doc, "value": value})


@router.post("/doc/{doc}/correct/verify", dependencies=[Guarded])
def correct_verify(request: Request, session: SignedIn, doc: DocId, body: CeremonyBody) -> dict[str, str]:
    """Ledger the signed correction and open a new round (earlier approvals stop counting)."""
    bench = workbench(request)
    pending = check_signed_request(bench, body, "correct", session, doc)
    statement = CorrectionStatement.model_validate_json(pending.context["statement"])
    value = pending.context["value"]
    seq = record_correction(bench.settings, bench.ledger(doc), bench.pii_engine(), statement, value, evidence(body))
    return {"message": f"{statement.field} corrected (seq {seq}); a new approval round started"}
