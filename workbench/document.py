"""The document screen: page images beside the extracted fields, findings, timeline, and the decision.

The decision part shows who decided so far and, for a decided document, its
outcome; the Approve/Reject buttons appear only where the approvals core's
rules would let the signed-in person decide, and otherwise the page says why.

Page images show the unmasked original, so only roles allowed to see
originals get them, with a rectangle where each value is printed, and the
view is ledgered (``original.viewed``) before the first image is served; an
image request for a document whose view was not ledgered in this session is
refused. Other roles see the masked values and the page text as the PII
masker leaves it (``/doc/{doc}/text``, fetched by the page after it loads, as
masking takes longer than the page may).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from docval.events import EntryKind, OriginalViewedPayload
from docval.settings import Settings
from workbench.app import utc_now
from workbench.decide import refusals
from workbench.deps import DocId, SignedIn, page, workbench
from workbench.errors import WorkbenchError
from workbench.pages import Box, page_png, page_texts, value_boxes
from workbench.views import DocView, document_view, next_waiting

__all__ = ["router"]

router = APIRouter()


@router.get("/doc/{doc}", response_class=HTMLResponse)
def document(request: Request, session: SignedIn, doc: DocId) -> HTMLResponse:
    bench = workbench(request)
    view = _found(document_view(bench.settings, doc, bench.ledger(doc)), doc)
    show_original = session.may_see_originals() and bench.settings.kept_original(doc) is not None
    if show_original and doc not in session.viewed:
        role = next(role for role in session.roles if role in ("pii_reader", "senior_reviewer", "admin"))
        payload = OriginalViewedPayload(person=session.person, role=role, pages=view.pages, at=utc_now())
        bench.record(EntryKind.ORIGINAL_VIEWED, payload, actor=session.person, doc=doc)
        session.viewed.add(doc)
    state = view.approval if view.decided is None else None  # None: decided, nobody is offered a decision
    context = {
        "view": view,
        "show_original": show_original,
        "boxes": _boxes(bench.settings, view) if show_original else {},
        "own": view.maker == session.person,
        "refusals": refusals(bench, state, session.person) if state is not None else [],
        "next_doc": next_waiting(bench.settings, doc),
    }
    return page(request, "document.html", context)


@router.get("/doc/{doc}/page/{number}.png")
def page_image(request: Request, session: SignedIn, doc: DocId, number: int) -> Response:
    bench = workbench(request)
    if not session.may_see_originals():
        raise WorkbenchError(
            f"refused: your roles ({', '.join(session.roles)}) do not show originals; "
            "pii_reader, senior_reviewer or admin may see them"
        )
    if doc not in session.viewed:
        raise WorkbenchError("refused: open the document page first, so the view of its original is ledgered")
    pdf = bench.settings.kept_original(doc)
    if pdf is None:
        raise WorkbenchError("the original is no longer kept (retention); the masked fields remain")
    return Response(
        page_png(pdf, bench.page_cache, number), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


@router.get("/doc/{doc}/text")
def masked_text(request: Request, session: SignedIn, doc: DocId) -> JSONResponse:
    """Each page's text with personal data pseudonymised (tokens of the document's vault entries), never raw."""
    bench = workbench(request)
    pdf = bench.settings.kept_original(doc)
    if pdf is None:
        raise WorkbenchError("the original is no longer kept (retention); the masked fields remain")
    engine = bench.pii_engine()
    pages = [engine.mask_text(text, doc=doc, store=False).text if text.strip() else "" for text in page_texts(pdf)]
    return JSONResponse({"pages": pages}, headers={"Cache-Control": "no-store"})


def _boxes(settings: Settings, view: DocView) -> dict[str, Box]:
    """Where each field's value is printed on the original (values of two characters or more, as shown)."""
    pdf = settings.kept_original(view.doc)
    wanted = {
        name: (str(field.value), field.page)
        for name, field in view.fields.items()
        if field.value is not None and len(str(field.value).strip()) >= 2
    }
    return value_boxes(pdf, wanted) if pdf is not None else {}


def _found(view: DocView | None, doc: str) -> DocView:
    if view is None:
        raise WorkbenchError(f"no document {doc[:12]}…; go back to the queue")
    return view
