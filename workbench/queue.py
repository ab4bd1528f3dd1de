"""The queue screen: what waits for people (and what was decided recently), one page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workbench.deps import SignedIn, page, workbench
from workbench.views import QueueFilter, queue_page

__all__ = ["router"]

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def queue(
    request: Request, session: SignedIn, state: str = "waiting", kind: str = "", sort: str = "oldest", p: int = 1
) -> HTMLResponse:
    wanted = QueueFilter(state=state, kind=kind, sort=sort, page=p)
    bench = workbench(request)
    result = queue_page(bench.settings, wanted, bench.ledgers)
    return page(request, "queue.html", {"result": result, "wanted": wanted, "person": session.person})
