"""Dependencies every route declares first: the workbench context, the signed-in person, the POST guard.

A state-changing request must come from our own origin (the ``Origin``
header, which browsers always send on POST) and carry the CSRF token of the
page it came from: the session's token once signed in, otherwise the
pre-session token set in an HttpOnly cookie when the sign-in or enrolment
page was served (double submit). Pages send it as the ``X-CSRF-Token`` header
of their ``fetch`` calls (workbench/static/app.js); there are no plain forms.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from workbench.app import Workbench
from workbench.errors import WorkbenchError
from workbench.sessions import Session

__all__ = [
    "PRE_COOKIE",
    "SESSION_COOKIE",
    "DocId",
    "Guarded",
    "SignedIn",
    "page",
    "set_cookie",
    "workbench",
]

SESSION_COOKIE = "docval_session"
PRE_COOKIE = "docval_presession"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(WorkbenchError):
    """No live session: the page sends the browser to sign in."""


def workbench(request: Request) -> Workbench:
    return request.app.state.workbench


def current_session(request: Request) -> Session | None:
    return workbench(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def signed_in(request: Request) -> Session:
    session = current_session(request)
    if session is None:
        raise SignInRequired("sign in with your passkey first")
    return session


def guard(request: Request) -> None:
    """Refuse a POST from another origin or without the page's CSRF token."""
    bench = workbench(request)
    if request.headers.get("origin") != bench.origin:
        raise WorkbenchError(f"refused: this request did not come from {bench.origin} (cross-site request)")
    session = current_session(request)
    expected = session.csrf if session else request.cookies.get(PRE_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise WorkbenchError("refused: the form's security token is missing or stale; reload the page and try again")


SignedIn = Annotated[Session, Depends(signed_in)]
DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="A document id: 64 hex digits.")]
Guarded = Depends(guard)


def set_cookie(response: Response, bench: Workbench, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=bench.secure_cookies, path="/", max_age=None
    )


def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """Render a page with the CSRF token its forms and scripts send back, and the person signed in (if any)."""
    bench = workbench(request)
    session = current_session(request)
    pre = None
    if session is None:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = bench.templates.TemplateResponse(
        request,
        template,
        {"session": session, "csrf": session.csrf if session else pre, **context},
        status_code=status,
    )
    if pre is not None and request.cookies.get(PRE_COOKIE) != pre:
        set_cookie(response, bench, PRE_COOKIE, pre)
    response.headers["Cache-Control"] = "no-store"
    return response
