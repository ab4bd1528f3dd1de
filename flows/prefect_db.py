"""A fresh Prefect home starts from a ready database instead of building one.

The first start of a Prefect server in an empty home runs every Alembic
migration and registers Prefect's block types: ~3–4 s on 2 cores before the
server answers, paid by every first ``docval up`` and by every standalone
``docval process --wait`` in a new data directory (benchmarks/README.md,
process_bench). ``flows/data/prefect-<version>.db.gz`` is that database for
one Prefect version: migrated to its head, block types registered, no flows,
runs or deployments (``scripts/prefect_template.py`` writes it). A home
without a database gets a copy; with another Prefect version installed there
is no template for it and the server builds its own, as before. Prefect still
runs its migrations and block registration on the copy (both no-ops there), so
a copy it would not have built itself is corrected, not trusted.
"""

from __future__ import annotations

import gzip
import os
from importlib import resources
from importlib.metadata import version
from pathlib import Path

__all__ = ["DATABASE", "seed_home", "template_name"]

DATABASE = "prefect.db"  # Prefect's SQLite file in PREFECT_HOME when no connection URL is set


def template_name(prefect_version: str) -> str:
    return f"prefect-{prefect_version}.db.gz"


def seed_home(home: Path, prefect_version: str | None = None) -> bool:
    """Put the template database in ``home`` if it has none and a template exists for the Prefect version
    (default: the installed one); whether it did. The copy is 0600, written whole or not at all."""
    target = home / DATABASE
    template = resources.files("flows") / "data" / template_name(prefect_version or version("prefect"))
    if target.exists() or not template.is_file():
        return False
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{DATABASE}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(gzip.decompress(template.read_bytes()))
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(partial, target)  # never over a database a server created meanwhile
    except FileExistsError:
        return False
    finally:
        partial.unlink()
    return True
