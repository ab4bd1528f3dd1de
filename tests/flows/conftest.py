"""A real Prefect server for the flows tests (one per session, ~5 s), and per-test docval settings wired to it.

The server runs as ``prefect server start`` on a free port with its home in a
temporary folder; this test process and every subprocess it starts talk to it
with telemetry off and logs kept out of its database, as the appliance does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from docval.settings import Settings, load_settings
from flows.env import free_port
from flows.server import server_healthy

# Prefect reads its settings when it is first imported, so the environment is fixed here, at collection.
_HOME = Path(tempfile.mkdtemp(prefix="docval-prefect-"))
_URL = f"http://127.0.0.1:{free_port()}/api"
os.environ.update(
    {
        "PREFECT_HOME": str(_HOME),
        "PREFECT_API_URL": _URL,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(_HOME / "storage"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[tuple[str, Path]]:
    """(API URL, Prefect home): the home holds the server's database and the client's result storage."""
    home, url = _HOME, _URL
    port = url.split(":")[-1].split("/")[0]
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", port],
        env={**os.environ},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while not server_healthy(url):
        assert process.poll() is None and time.monotonic() < deadline, "Prefect server did not start"
        time.sleep(0.3)
    yield url, home
    process.terminate()
    process.wait(30)
    log.close()


@pytest.fixture
def flow_settings(settings: Settings, prefect_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The per-test data directory, prepared like `docval up` does, pointing at the session's server."""
    from flows.appliance import prepare
    from flows.batch import worker_context

    monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", prefect_server[0])
    monkeypatch.setenv("DOCVAL_FLOWS__STABLE_SECONDS", "0.3")
    loaded = load_settings()
    prepare(loaded)
    worker_context.cache_clear()
    yield loaded
    worker_context.cache_clear()


@pytest.fixture
def postgres_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a data directory PostgreSQL's own user can reach (pytest's tmp_path is private to root)."""
    import shutil

    root = Path(tempfile.mkdtemp(prefix="docval-postgres-"))
    root.chmod(0o755)
    monkeypatch.setenv("DOCVAL_CONFIG", str(root / "docval.toml"))
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(root / "var"))
    loaded = load_settings()
    loaded.ensure_dirs()
    yield loaded
    shutil.rmtree(root, ignore_errors=True)
