"""Cookie flags and security headers as a browser receives them, over http://localhost and behind TLS."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from docval.settings import Settings, WorkbenchSettings
from workbench.app import create_app


@pytest.mark.parametrize(("origin", "secure"), [("", False), ("https://review.example.com", True)])
def test_cookies_are_httponly_strict_and_secure_behind_tls(settings: Settings, origin: str, secure: bool) -> None:
    configured = settings.model_copy(update={"workbench": WorkbenchSettings(origin=origin)})
    client = TestClient(create_app(configured, lambda doc: None), base_url=origin or "http://localhost:8600")
    response = client.get("/signin")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert ("secure" in cookie.split("; ")) is secure
    assert response.headers["x-frame-options"] == "DENY" and response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/", follow_redirects=False).headers["location"] == "/signin"  # no session: sign in first
