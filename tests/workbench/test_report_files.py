"""Report files over HTTP: the links report runs publish open in the workbench, for admins, read-only.

Sessions are opened on the app's own session store (passkey sign-in is tested in test_browser.py); the
report folder holds real files written where report runs write them.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from docval.settings import Settings
from workbench.app import create_app
from workbench.deps import SESSION_COOKIE

PERIOD = "2026-11-01_2026-11-30"


@pytest.fixture
def client(settings: Settings) -> TestClient:
    out = settings.resolve(settings.reports.out_dir) / PERIOD
    out.mkdir(parents=True)
    (out / "report.html").write_text("<h1>report 2026-11</h1>", encoding="utf-8")
    (out / "report.pdf").write_bytes(b"%PDF-1.7 report")
    (settings.data_dir / "secret.txt").write_text("not a report", encoding="utf-8")
    (out / "outside.html").symlink_to(settings.data_dir / "secret.txt")
    return TestClient(create_app(settings, lambda doc: None), base_url="http://localhost:8600")


def _sign_in(client: TestClient, person: str, roles: tuple[str, ...]) -> None:
    session = client.app.state.workbench.sessions.open(person, roles, "credential")
    client.cookies.set(SESSION_COOKIE, session.sid)


def test_an_admin_opens_the_report_and_its_pdf(client: TestClient) -> None:
    _sign_in(client, "erin", ("admin",))
    page = client.get(f"/reports/{PERIOD}/report.html")
    assert page.status_code == 200 and "report 2026-11" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # inline styles, no scripts
    assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    pdf = client.get(f"/reports/{PERIOD}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_other_roles_and_strangers_are_refused(client: TestClient) -> None:
    assert client.get(f"/reports/{PERIOD}/report.html", follow_redirects=False).headers["location"] == "/signin"
    _sign_in(client, "bob", ("reviewer",))
    refused = client.get(f"/reports/{PERIOD}/report.html")
    assert refused.status_code == 403 and "admin may" in refused.text


@pytest.mark.parametrize(
    "path",
    [f"/reports/{PERIOD}/outside.html", f"/reports/{PERIOD}/..%2Fsecret.txt", "/reports/..%2F..%2Fsecret.txt/x.html",
     f"/reports/{PERIOD}/missing.html", f"/reports/{PERIOD}/report.py"],
)  # fmt: skip
def test_only_files_inside_a_period_folder_are_served(client: TestClient, path: str) -> None:
    _sign_in(client, "erin", ("admin",))
    response = client.get(path)
    assert response.status_code in {403, 404, 422} and "not a report" not in response.text
