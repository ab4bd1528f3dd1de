"""The document screen: page images beside the extracted fields, findings, timeline, and the decision.

Page images show the unmasked original, so only roles allowed to see
originals get them, and the view is ledgered (``original.viewed``) before
the first image is served; an image request for a document whose view was
not ledgered in this session is refused. Other roles see the masked values.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from docval.events import EntryKind, OriginalViewedPayload
from workbench.app import utc_now
from workbench.deps import DocId, SignedIn, page, workbench
from workbench.errors import WorkbenchError
from workbench.pages import page_png
from workbench.views import DocView, document_view, next_waiting, original_pdf

__all__ = ["router"]

router = APIRouter()


@router.get("/doc/{doc}", response_class=HTMLResponse)
def document(request: Request, session: SignedIn, doc: DocId) -> HTMLResponse:
    bench = workbench(request)
    view = _found(document_view(bench.settings, doc), doc)
    show_original = session.may_see_originals() and original_pdf(bench.settings, doc) is not None
    if show_original and doc not in session.viewed:
        role = next(role for role in session.roles if role in ("pii_reader", "senior_reviewer", "admin"))
        payload = OriginalViewedPayload(person=session.person, role=role, pages=view.pages, at=utc_now())
        bench.record(EntryKind.ORIGINAL_VIEWED, payload, actor=session.person, doc=doc)
        session.viewed.add(doc)
    context = {
        "view": view,
        "show_original": show_original,
        "own": view.maker == session.person,
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
    pdf = original_pdf(bench.settings, doc)
    if pdf is None:
        raise WorkbenchError("the original is no longer kept (retention); the masked fields remain")
    return Response(
        page_png(pdf, bench.page_cache, number), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


def _found(view: DocView | None, doc: str) -> DocView:
    if view is None:
        raise WorkbenchError(f"no document {doc[:12]}…; go back to the queue")
    return view
