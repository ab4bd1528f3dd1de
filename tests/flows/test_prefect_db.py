"""The template a fresh Prefect home starts from (flows/prefect_db.py) is the database Prefect itself builds.

A template that drifted from the installed Prefect (a new pin in constraints.txt
without ``scripts/prefect_template.py`` rerun) fails here, not in a user's
first ``docval up``.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from importlib import resources
from importlib.metadata import version
from pathlib import Path

from flows.prefect_db import DATABASE, seed_home, template_name


def _schema(database: Path) -> tuple[set[tuple[str, str, str]], list[tuple[str, ...]]]:
    """Every table, index and trigger with its SQL, and the Alembic revision.

    A table's lines are compared as a set: Alembic's SQLite batch mode rebuilds tables with their constraints
    in an order that varies from one run to the next."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        objects = {
            (kind, name, "\n".join(sorted(line.strip(" \t,") for line in sql.splitlines()))) for kind, name, sql in rows
        }
        revision = list(connection.execute("SELECT version_num FROM alembic_version"))
    connection.close()
    return objects, revision


def test_the_template_is_what_prefects_own_migrations_build(tmp_path: Path) -> None:
    template = resources.files("flows") / "data" / template_name(version("prefect"))
    assert template.is_file(), f"no template for Prefect {version('prefect')}: run scripts/prefect_template.py"
    (tmp_path / "template.db").write_bytes(gzip.decompress(template.read_bytes()))
    home = tmp_path / "migrated"
    home.mkdir()
    subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    objects, revision = _schema(tmp_path / "template.db")
    assert revision and revision == _schema(home / DATABASE)[1]
    assert objects == _schema(home / DATABASE)[0]


def test_a_fresh_home_gets_a_private_copy_and_an_existing_database_is_kept(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    assert seed_home(home)
    copied = home / DATABASE
    assert copied.stat().st_mode & 0o777 == 0o600 and home.stat().st_mode & 0o777 == 0o700
    assert _schema(copied)[1], "the copy has no Alembic revision"
    assert [path.name for path in home.iterdir()] == [DATABASE], "a partial copy was left behind"

    copied.write_bytes(b"the server's own database")
    assert not seed_home(home)
    assert copied.read_bytes() == b"the server's own database"


def test_without_a_template_for_the_installed_prefect_the_server_builds_its_own(tmp_path: Path) -> None:
    assert not seed_home(tmp_path / "prefect", prefect_version="0.0.0")
    assert not (tmp_path / "prefect" / DATABASE).exists()
