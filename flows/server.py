"""The embedded Prefect server: a ``prefect server start`` child process on 127.0.0.1 with SQLite.

The appliance needs a real server (ephemeral mode costs ~9 s per process and
loses the UI), but not a separate installation: ``docval up`` starts one under
the data directory, and reuses one that already answers on the configured URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from docval.settings import Settings
from flows.env import prefect_env, prefect_home
from flows.errors import FlowError
from flows.prefect_db import seed_home

__all__ = ["PrefectServer", "server_healthy"]


def server_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class PrefectServer:
    """A started (or reused) server; ``stop()`` only stops what this object started."""

    api_url: str
    process: subprocess.Popen[bytes] | None
    log_path: Path | None

    @classmethod
    def ensure(
        cls, settings: Settings, api_url: str | None = None, *, database_url: str | None = None, timeout: float = 90.0
    ) -> PrefectServer:
        """``database_url``: a Postgres URL (flows/cluster/postgres.py) for a many-worker setup; SQLite without."""
        server = cls.start(settings, api_url, database_url=database_url)
        server.wait_ready(timeout)
        return server

    @classmethod
    def start(cls, settings: Settings, api_url: str | None = None, *, database_url: str | None = None) -> PrefectServer:
        """The server answering at the URL, or a local one started without waiting for it to answer
        (``wait_ready``): a caller has work of its own to do during the seconds a start takes."""
        url = api_url or settings.flows.prefect_api_url
        if server_healthy(url):
            return cls(api_url=url, process=None, log_path=None)
        parts = urlsplit(url)
        if parts.hostname not in {"127.0.0.1", "localhost"}:
            raise FlowError(f"Prefect server at {url} does not answer and is not local, so docval cannot start it")
        home = prefect_home(settings)
        log_path = home / "server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **prefect_env(settings, url)}
        if database_url is None:
            seed_home(home)
        else:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(parts.port)]
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return cls(api_url=url, process=process, log_path=log_path)

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until the server answers; a server that exits or stays silent is stopped and named."""
        deadline = time.monotonic() + timeout
        while not server_healthy(self.api_url):
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                if self.log_path is None:
                    raise FlowError(f"the Prefect server at {self.api_url} stopped answering (docval did not start it)")
                raise FlowError(f"Prefect server did not start on {self.api_url}; see {self.log_path}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
