"""The data directory belongs to docval alone: files 0600, folders 0700, and no start on a shared one.

The ledger, the store, the outbox, the archive and Prefect's database hold
what the appliance decided and about whom; a file other local users can read
leaks it, a folder they can write lets them swap a ledger or plant a file. So
every docval process creates with umask 077 (DuckDB, SQLite and Prefect's
server, a child process, inherit it), and the commands that start work refuse
a data directory group or others can write, naming the chmod that fixes it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from docval.errors import ConfigError

__all__ = ["PRIVATE_UMASK", "make_private", "refuse_shared"]

PRIVATE_UMASK = 0o077


def make_private() -> None:
    """From now on this process and its children create files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def refuse_shared(data_dir: Path) -> None:
    """ConfigError if group or others may write ``data_dir`` (a missing one is created private later)."""
    try:
        mode = stat.S_IMODE(data_dir.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            data_dir,
            None,
            f"mode {mode:04o} lets other users write the data directory (swap its ledger, plant files); "
            f"run `chmod go-w,o-rx {data_dir}` (or `chmod 700 {data_dir}`) and start again",
        )
