"""The workbench's FastAPI application and the function that serves it.

``create_app`` wires one router per screen (sign-in and enrolment, queue,
document) around a shared ``Workbench`` context: settings, the enrolment
store, the in-memory sessions, the publish function handed in by the caller
and the home lookup (which ledger holds a document: in a cluster, the shard
of the worker that claimed it). ``flows`` (``docval up``, ``docval review``)
passes both; this package never imports Prefect or looks for shards itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from approvals.entries import PERSON_CHANGED
from approvals.people import Roster, fold_roster
from docval.events import EntryKind
from docval.settings import Settings
from ledger import Ledger
from workbench.enrolment import EnrolmentStore
from workbench.errors import WorkbenchError
from workbench.sessions import SessionStore

if TYPE_CHECKING:
    import uvicorn

    from pii import PiiEngine

__all__ = [
    "Homes",
    "Publish",
    "Workbench",
    "build_server",
    "create_app",
    "invite_link",
    "serve_workbench",
    "workbench_url",
]

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Publish = Callable[[str], object]
"""Start publishing a decided document (its id; what it returns is not used); injected so the workbench never
imports Prefect."""
Homes = Callable[[list[str]], dict[str, Ledger]]
"""The ledger holding each document's history where it is not the root (a cluster shard); injected by flows."""


def root_only(docs: list[str]) -> dict[str, Ledger]:
    """The home lookup of an installation without shards: every document's history is in the root ledger."""
    return {}


@dataclass
class Workbench:
    settings: Settings
    enrolment: EnrolmentStore
    sessions: SessionStore
    publish: Publish
    templates: Jinja2Templates
    homes: Homes = root_only
    _pii: PiiEngine | None = None
    _pii_lock: threading.Lock = field(default_factory=threading.Lock)
    _roster: tuple[int, Roster] | None = None  # (seq of the last enrolment entry, the roster folded up to it)
    _roster_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return self.settings.workbench.public_origin

    @property
    def secure_cookies(self) -> bool:
        return self.origin.startswith("https://")

    @property
    def page_cache(self) -> Path:
        return self.settings.data_dir / "cache" / "pages"

    def mask_reason(self, doc: str, reason: str) -> str:
        """The reason with personal data pseudonymised (originals to the document's vault entries), as signed."""
        return self.pii_engine().mask_text(reason, doc=doc).text

    def pii_engine(self) -> PiiEngine:
        """Loaded once per server (about a second of recogniser set-up; ``create_app`` starts it in the background)."""
        with self._pii_lock:
            if self._pii is None:
                from pii import PiiEngine

                self._pii = PiiEngine.from_settings(self.settings)
            return self._pii

    @cached_property
    def root(self) -> Ledger:
        """The root ledger: sessions and the roster of people (a cluster's shards hold documents only).

        Opened once (a ``Ledger`` holds no connection between calls; opening it checks its tables)."""
        return Ledger.open(self.settings)

    def roster(self) -> Roster:
        """Who is enrolled now, from the root ledger; folded again only after a new enrolment entry.

        Folding checks every admin signature (~1.5 ms each), and every document page asks who may decide; the
        approvals core still folds its own roster under the write lock when a decision is recorded."""
        with self.root.reader() as reader:
            facts = reader.entries_of_kind([PERSON_CHANGED])
        last = facts[-1].seq if facts else -1
        with self._roster_lock:
            if self._roster is None or self._roster[0] != last:
                self._roster = (last, fold_roster(facts))
            return self._roster[1]

    def ledgers(self, docs: list[str]) -> dict[str, Ledger]:
        """Each document's home ledger, one lookup for a page of documents, so a shard's history stays one chain."""
        found, root = self.homes(docs), self.root
        return {doc: found.get(doc, root) for doc in docs}

    def ledger(self, doc: str) -> Ledger:
        return self.ledgers([doc])[doc]

    def record(self, kind: EntryKind, payload: BaseModel, *, actor: str, doc: str | None = None) -> int:
        """Append one workbench entry: to the document's home ledger, else the root (sign-ins and sign-outs)."""
        ledger = self.ledger(doc) if doc else self.root
        return ledger.append(kind, doc=doc, actor=actor, data=payload.model_dump(mode="json"))


def enrolment_store(settings: Settings) -> EnrolmentStore:
    return EnrolmentStore(settings.data_dir / "workbench.duckdb")


def workbench_url(settings: Settings) -> str:
    return settings.workbench.public_origin


def invite_link(settings: Settings, person: str, roles: list[str], *, invited_by: str) -> str:
    """A one-time enrolment link for ``person`` (``docval users invite``; ``docval up`` may print one for the demo).

    ``invited_by`` must be an enrolled admin the caller has identified by their key.
    """
    valid = timedelta(hours=settings.workbench.invite_hours)
    token = enrolment_store(settings).invite(person, roles, invited_by=invited_by, valid=valid)
    return f"{workbench_url(settings)}/enrol/{token}"


def create_app(settings: Settings, publish: Publish, homes: Homes = root_only) -> FastAPI:
    from workbench import auth, correct, decide, document, queue, report_files

    settings.ensure_dirs()
    templates = Jinja2Templates(directory=HERE / "templates")
    app = FastAPI(title="docval workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workbench = Workbench(
        settings=settings,
        enrolment=enrolment_store(settings),
        sessions=SessionStore(settings.workbench.idle_minutes * 60),
        publish=publish,
        templates=templates,
        homes=homes,
    )
    threading.Thread(target=app.state.workbench.pii_engine, name="pii-warm-up", daemon=True).start()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, queue, document, correct, decide, report_files):
        app.include_router(module.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable) -> Response:
        """No framing (a decision page inside another site's frame could be clicked blind), our scripts only,
        and no Referer (enrolment links carry their one-time token in the path)."""
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a route's own, stricter-fitting policy stands (report files)
        return response

    @app.exception_handler(WorkbenchError)
    async def refused(request: Request, exc: WorkbenchError) -> Response:
        """Refusals are shown, never silent: the page (or the script's JSON) says what would be allowed."""
        from workbench.deps import SignInRequired, page

        if "json" in request.headers.get("accept", ""):
            return JSONResponse({"error": str(exc)}, status_code=401 if isinstance(exc, SignInRequired) else 403)
        if isinstance(exc, SignInRequired):
            return RedirectResponse("/signin", status_code=303)
        return page(request, "refused.html", {"message": str(exc)}, status=403)

    return app


def build_server(settings: Settings, publish: Publish, homes: Homes = root_only) -> uvicorn.Server:
    """The uvicorn server of the workbench, not started; set ``should_exit`` to stop it."""
    import uvicorn

    config = uvicorn.Config(
        create_app(settings, publish, homes),
        host=settings.workbench.host,
        port=settings.workbench.port,
        log_level="warning",
        access_log=False,
    )
    return uvicorn.Server(config)


def serve_workbench(settings: Settings, publish: Publish, homes: Homes = root_only) -> None:
    """Run the workbench until the process stops (blocking; ``docval up`` runs it in a thread or process).

    Prints the URL reviewers open: ``http://localhost:PORT``, because browsers refuse passkeys on bare IPs.
    """
    server = build_server(settings, publish, homes)
    print(f"reviewer workbench: {workbench_url(settings)}", flush=True)
    server.run()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
