"""Sign-in, sign-out and enrolment with passkeys (py_webauthn); no passwords anywhere.

Sign-in asks for any discoverable credential and looks the returned id up:
only credentials an admin has countersigned open a session. Every sign-in,
refused sign-in and sign-out is ledgered. Enrolment by invitation registers
a credential and shows its fingerprint, which the person reads to the admin
who then countersigns (``docval users confirm``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from approvals.passkey import b64url, cose_fingerprint, unb64url
from approvals.people import Person
from approvals.record import read_roster
from docval.events import EntryKind, SessionPayload
from workbench.app import Workbench, utc_now
from workbench.deps import SESSION_COOKIE, Guarded, SignedIn, current_session, page, set_cookie, workbench
from workbench.enrolment import Credential
from workbench.errors import WorkbenchError
from workbench.sessions import Challenge, Session

__all__ = ["router"]

router = APIRouter()
RP_NAME = "docval reviewer workbench"


class CeremonyBody(BaseModel):
    """What the page posts back after a WebAuthn ceremony: the handle of our challenge and the credential JSON."""

    handle: str
    credential: dict[str, Any]


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> HTMLResponse:
    if current_session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return page(request, "signin.html", {})


@router.post("/signin/options", dependencies=[Guarded])
def signin_options(request: Request) -> dict[str, Any]:
    bench = workbench(request)
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=bench.settings.workbench.rp_id,
        challenge=challenge,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return {"handle": bench.sessions.issue(challenge, "signin", {}), "options": json.loads(options_to_json(options))}


@router.post("/signin/verify", dependencies=[Guarded])
def signin_verify(request: Request, body: CeremonyBody) -> JSONResponse:
    bench = workbench(request)
    credential = bench.enrolment.credential(str(body.credential.get("id", "")))
    try:
        _, person = check_assertion(bench, body, "signin")
    except WorkbenchError as refused:
        code = str(refused).split(":", 1)[0]
        _ledger_session(bench, EntryKind.SESSION_REFUSED, None, credential, reason=code)
        return JSONResponse({"error": f"sign-in refused: {refused}"}, status_code=403)
    assert credential is not None  # check_assertion found it
    roles = tuple(sorted(role.value for role in person.roles))
    session = bench.sessions.open(person.name, roles, credential.credential_id)
    _ledger_session(bench, EntryKind.SESSION_SIGNED_IN, person.name, credential)
    response = JSONResponse({"redirect": "/"})
    set_cookie(response, bench, SESSION_COOKIE, session.sid)
    return response


@router.post("/signout", dependencies=[Guarded])
def signout(request: Request, session: SignedIn) -> RedirectResponse:
    bench = workbench(request)
    bench.sessions.close(session.sid)
    credential = bench.enrolment.credential(session.credential_id)
    _ledger_session(bench, EntryKind.SESSION_SIGNED_OUT, session.person, credential)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/enrol/{token}", response_class=HTMLResponse)
def enrol_page(request: Request, token: str) -> HTMLResponse:
    invitation = workbench(request).enrolment.invitation(token)
    return page(request, "enrol.html", {"invitation": invitation, "token": token})


@router.post("/enrol/{token}/options", dependencies=[Guarded])
def enrol_options(request: Request, token: str) -> dict[str, Any]:
    bench = workbench(request)
    invitation = bench.enrolment.invitation(token)
    options = generate_registration_options(
        rp_id=bench.settings.workbench.rp_id,
        rp_name=RP_NAME,
        user_name=invitation.person,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
    )
    handle = bench.sessions.issue(options.challenge, "enrol", {"token": token})
    return {"handle": handle, "options": json.loads(options_to_json(options))}


@router.post("/enrol/{token}/verify", dependencies=[Guarded])
def enrol_verify(request: Request, token: str, body: CeremonyBody) -> dict[str, str]:
    bench = workbench(request)
    pending = bench.sessions.redeem(body.handle, "enrol")
    if pending is None or pending.context.get("token") != token:
        raise WorkbenchError("this enrolment attempt expired; reload the page and try again")
    try:
        verified = verify_registration_response(credential=body.credential, **_expected(bench, pending.challenge))
    except InvalidRegistrationResponse as exc:
        raise WorkbenchError(f"the passkey could not be registered: {exc}") from None
    cose = b64url(verified.credential_public_key)
    bench.enrolment.propose(
        token,
        Credential(
            credential_id=b64url(verified.credential_id),
            person="",
            roles=(),
            cose_public_key=cose,
            rp_id=bench.settings.workbench.rp_id,
            origin=bench.origin,
            sign_count=verified.sign_count,
        ),
    )
    return {"fingerprint": cose_fingerprint(cose)}


def enrolled_person(bench: Workbench, credential_id: str) -> Person | None:
    """The person the ledgered roster enrols with this passkey (countersigned by admins), if any."""
    roster = read_roster(bench.root)
    for person in roster.people.values():
        if person.key.get("kind") == "webauthn" and person.key.get("credential_id") == credential_id:
            return person
    return None


def check_assertion(bench: Workbench, body: CeremonyBody, purpose: str) -> tuple[Challenge, Person]:
    """Verify a WebAuthn assertion for a challenge this server issued for ``purpose``; who made it.

    The challenge is one-time (popped here), the passkey must be enrolled in the ledger's roster, and
    the sign counter must go up when the authenticator keeps one (synced passkeys report 0; the nonce
    in every decision statement stops their replays). Refusals start with a stable code for the ledger.
    """
    pending = bench.sessions.redeem(body.handle, purpose)
    if pending is None:
        raise WorkbenchError("NO_PENDING_CHALLENGE: this request was used already or has expired; try again")
    credential_id = str(body.credential.get("id", ""))
    stored = bench.enrolment.credential(credential_id)
    person = enrolled_person(bench, credential_id)
    if stored is None or person is None:
        waiting = f" (fingerprint {stored.fingerprint}; an admin runs docval users confirm)" if stored else ""
        raise WorkbenchError(f"NOT_ENROLLED: this passkey is not enrolled here{waiting}")
    try:
        verified = verify_authentication_response(
            credential=body.credential,
            credential_public_key=unb64url(stored.cose_public_key),
            credential_current_sign_count=stored.sign_count,
            **_expected(bench, pending.challenge),
        )
    except InvalidAuthenticationResponse as exc:
        raise WorkbenchError(f"BAD_ASSERTION: {exc}") from None
    bench.enrolment.advance(credential_id, verified.new_sign_count)
    return pending, person


def sign_request(bench: Workbench, session: Session, message: bytes, purpose: str, context: dict[str, str]) -> dict:
    """Ask the signed-in person's passkey to sign ``message``: options whose challenge is SHA-256(message).

    The page shows ``statement`` (the exact bytes) before the authenticator asks the person to confirm.
    """
    options = generate_authentication_options(
        rp_id=bench.settings.workbench.rp_id,
        challenge=hashlib.sha256(message).digest(),
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(session.credential_id))],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    handle = bench.sessions.issue(options.challenge, purpose, {**context, "statement": message.decode()})
    return {"handle": handle, "options": json.loads(options_to_json(options)), "statement": message.decode()}


def check_signed_request(bench: Workbench, body: CeremonyBody, purpose: str, session: Session, doc: str) -> Challenge:
    """The pending request a signature answers, checked to be this person's, for this document."""
    pending, person = check_assertion(bench, body, purpose)
    if pending.context.get("doc") != doc or person.name != session.person:
        raise WorkbenchError("refused: this signature belongs to another document or person")
    return pending


def evidence(body: CeremonyBody) -> dict[str, str]:
    """The signature as the ledger keeps it: the authenticator's bytes exactly as received (base64url)."""
    response = body.credential.get("response", {})
    return {
        "kind": "webauthn",
        "credential_id": str(body.credential.get("id", "")),
        "authenticator_data": str(response.get("authenticatorData", "")),
        "client_data_json": str(response.get("clientDataJSON", "")),
        "signature": str(response.get("signature", "")),
    }


def _expected(bench: Workbench, challenge: bytes) -> dict[str, Any]:
    """What every ceremony must match: our challenge, RP id and origin, with user verification."""
    return {
        "expected_challenge": challenge,
        "expected_rp_id": bench.settings.workbench.rp_id,
        "expected_origin": bench.origin,
        "require_user_verification": True,
    }


def _ledger_session(
    bench: Workbench, kind: EntryKind, person: str | None, credential: Credential | None, reason: str | None = None
) -> None:
    fingerprint = credential.fingerprint if credential else ""
    payload = SessionPayload(person=person, credential=fingerprint, reason=reason, at=utc_now())
    bench.record(kind, payload, actor=person or "workbench")
