"""The Prefect environment of the appliance: everything under the data directory, nothing leaves the host.

Set before Prefect is imported (its settings are read from the environment),
in this process and every child (server, served runs). Why each variable:
``PREFECT_HOME`` and the result storage path put Prefect's SQLite database and
the pickled exceptions of failed runs under ``data_dir/prefect``, where the
leak scan and backups see them; logs stay out of Prefect's database; results
are not persisted; telemetry is off; the runner polls every second so a
triggered run starts in ~2 s instead of ~10 s (notes/prefect.md §3).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from docval.settings import Settings

__all__ = ["apply_prefect_env", "free_port", "prefect_env", "prefect_home"]


def prefect_home(settings: Settings) -> Path:
    return (settings.data_dir / "prefect").resolve()


def prefect_env(settings: Settings, api_url: str | None = None) -> dict[str, str]:
    home = prefect_home(settings)
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url or settings.flows.prefect_api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def apply_prefect_env(settings: Settings, api_url: str | None = None) -> dict[str, str]:
    """Export the Prefect environment into this process (call before ``import prefect``)."""
    env = prefect_env(settings, api_url)
    prefect_home(settings).mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.update(env)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
