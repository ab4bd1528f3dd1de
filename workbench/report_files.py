"""Report files over HTTP, so the links a report run publishes in the Prefect UI open in a browser.

Read-only: one file directly inside ``<data_dir>/<reports.out_dir>/<period>/`` (the HTML, the PDF, the CSVs,
the bundle zip), for a signed-in admin. The approvals core knows no auditor role; an auditor is handed the
files or the bundle. Reports carry masked values only, and serving them changes nothing, so a view is not
ledgered. The report's inline styles and SVG charts need their own content policy; it allows no script.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from workbench.deps import SignedIn, workbench
from workbench.errors import WorkbenchError

__all__ = ["REPORT_ROLES", "report_url", "router"]

router = APIRouter()

REPORT_ROLES = ("admin",)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
PERIOD = r"^\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}$"
FILE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(html|pdf|csv|zip)$"


def report_url(origin: str, period: str, name: str) -> str:
    """Where the workbench serves report file ``name`` of ``period`` (a ``Period.label``)."""
    return f"{origin}/reports/{period}/{name}"


@router.get("/reports/{period}/{name}")
def report_file(
    request: Request,
    session: SignedIn,
    period: str = Path(pattern=PERIOD),
    name: str = Path(pattern=FILE),
) -> FileResponse:
    if not any(role in REPORT_ROLES for role in session.roles):
        raise WorkbenchError(
            f"refused: your roles ({', '.join(session.roles)}) do not open reports; "
            f"{' or '.join(REPORT_ROLES)} may (or ask for the files or the evidence bundle)"
        )
    settings = workbench(request).settings
    path = settings.resolve(settings.reports.out_dir) / period / name
    if not path.is_file() or path.is_symlink():
        raise WorkbenchError(f"no report file {period}/{name}; run `docval report` for that period first")
    return FileResponse(path, headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"})
