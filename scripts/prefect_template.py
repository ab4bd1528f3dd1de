"""Write flows/data/prefect-<version>.db.gz: the database a first Prefect server start builds (installed Prefect).

    python scripts/prefect_template.py

Starts ``prefect server start`` once in an empty temporary home (it runs every
migration and registers the block types), stops it, and keeps its database:
checkpointed, vacuumed, one file, gzip without a time stamp. Run it after
changing the Prefect pin in constraints.txt (tests/flows/test_prefect_db.py
fails until you do); templates of other versions can be deleted. The content
holds creation times, so two runs differ in bytes, not in schema or rows.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.env import free_port  # noqa: E402
from flows.prefect_db import DATABASE, template_name  # noqa: E402
from flows.server import server_healthy  # noqa: E402


def build(home: Path) -> bytes:
    """The database of a server's first start in ``home`` (empty), as one vacuumed file's bytes."""
    port = free_port()
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with (home / "server.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not server_healthy(f"http://127.0.0.1:{port}/api"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(30)
    database = home / DATABASE
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("VACUUM")
    connection.close()
    return database.read_bytes()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="docval-prefect-template-") as folder:
        data = build(Path(folder))
    target = ROOT / "flows" / "data" / template_name(version("prefect"))
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{target.relative_to(ROOT)}: {len(data):,} bytes, {target.stat().st_size:,} compressed")


if __name__ == "__main__":
    main()
