"""A PostgreSQL 15 cluster under the data directory, for the Prefect server of a many-worker installation.

Why Postgres: the SQLite server serialises every write and adds multi-second
tails after flow runs once several workers report to it (notes/prefect.md §8).
The cluster lives in ``<data_dir>/postgres`` (Debian's ``postgresql`` package,
binaries in /usr/lib/postgresql/15/bin), listens on 127.0.0.1 only, on TCP
only (no Unix socket whose path could exceed the 107-byte limit), with
scram-sha-256 passwords kept in ``keys/`` (0600). PostgreSQL refuses to run as
root, so when docval runs as root the server runs as the ``postgres`` user;
its folder is then owned by that user, and every parent must be traversable.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from docval.keyfile import read_or_create_secret
from docval.settings import Settings
from flows.env import free_port
from flows.errors import FlowError

__all__ = ["PG_BIN", "Postgres"]

PG_BIN = Path(os.environ.get("DOCVAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "prefect"
_SUPERUSER = "postgres"


def _run_as() -> list[str]:
    """The prefix that runs a PostgreSQL binary as a non-root user (nothing when we are not root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", _SUPERUSER, "--"]


def _secret(path: Path) -> str:
    """A password file (created 0600 on first use, refused if wider); never in logs or Prefect parameters."""
    return read_or_create_secret(path, lambda: secrets.token_urlsafe(24).encode()).decode().strip()


@dataclass(frozen=True)
class Postgres:
    """One PostgreSQL cluster: its folder, its port (fixed at creation), its two password files."""

    folder: Path
    keys_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> Postgres:
        return cls(folder=(settings.data_dir / "postgres").resolve(), keys_dir=settings.keys_dir.resolve())

    @property
    def pgdata(self) -> Path:
        return self.folder / "data"

    @property
    def port(self) -> int:
        return int((self.folder / "port").read_text(encoding="utf-8"))

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    def url(self) -> str:
        """The asyncpg URL the Prefect server needs (PREFECT_SERVER_DATABASE_CONNECTION_URL); holds a secret."""
        password = quote(_secret(self.keys_dir / "prefect-db.password"), safe="")
        return f"postgresql+asyncpg://{DATABASE}:{password}@127.0.0.1:{self.port}/{DATABASE}"

    def create(self, port: int | None = None) -> bool:
        """initdb, a port, the ``prefect`` role and database; False if the cluster already exists."""
        if (self.pgdata / "PG_VERSION").exists():
            return False
        if not (PG_BIN / "initdb").exists():
            raise FlowError(f"PostgreSQL 15 not found in {PG_BIN}: run `make system-deps` (Debian package postgresql)")
        self.pgdata.mkdir(parents=True, exist_ok=True)
        (self.folder / "port").write_text(str(port or free_port()), encoding="utf-8")
        pwfile = self.folder / ".initdb-password"
        pwfile.write_text(_secret(self.keys_dir / "postgres.password"), encoding="utf-8")
        self._hand_over()
        try:
            self._pg(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                _SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-instructions",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self.start()
        password = _secret(self.keys_dir / "prefect-db.password").replace("'", "''")
        self._psql(f"CREATE ROLE {DATABASE} LOGIN PASSWORD '{password}'")
        self._psql(f"CREATE DATABASE {DATABASE} OWNER {DATABASE}")
        return True

    def running(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
        )
        return result.returncode == 0

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self._pg(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        )

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists() and self.running():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop and delete the cluster (tests and benchmarks)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _hand_over(self) -> None:
        """When root, the folder must belong to the user PostgreSQL runs as."""
        if os.geteuid() != 0:
            return
        user = pwd.getpwnam(_SUPERUSER)
        data_dir = self.folder.parent  # 0700 (docval.private): PostgreSQL's user may pass through, not list or read
        for above in data_dir.resolve().parents:
            if not above.stat().st_mode & stat.S_IXOTH:
                raise FlowError(
                    f"PostgreSQL runs as {_SUPERUSER} and cannot reach {self.folder}: {above} is not searchable by "
                    f"others; put the data directory where it can pass (e.g. a folder beside var/, as `make "
                    f"cluster-demo` does) or run `chmod o+x {above}`"
                )
        data_dir.chmod(stat.S_IMODE(data_dir.stat().st_mode) | 0o011)
        for path in (self.folder, self.pgdata, self.folder / ".initdb-password"):
            os.chown(path, user.pw_uid, user.pw_gid)
        self.pgdata.chmod(0o700)
        self.log_path.touch()
        os.chown(self.log_path, user.pw_uid, user.pw_gid)

    def _pg(self, binary: str, *args: str) -> None:
        result = subprocess.run(
            [*_run_as(), str(PG_BIN / binary), *args], capture_output=True, text=True, check=False, cwd="/"
        )
        if result.returncode != 0:
            raise FlowError(
                f"{binary} failed ({result.returncode}): {result.stderr.strip()[-500:]}; see {self.log_path}"
            )

    def _psql(self, sql: str, deadline: float = 30.0) -> None:
        env = {**os.environ, "PGPASSWORD": _secret(self.keys_dir / "postgres.password")}
        command = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", _SUPERUSER, "-q"]
        end = time.monotonic() + deadline
        while True:
            result = subprocess.run(
                [*command, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                return
            if time.monotonic() > end:
                raise FlowError(f"psql failed: {result.stderr.strip()[-300:]}")
            time.sleep(0.5)
