"""Short-lived DuckDB connections under a reader/writer file lock.

DuckDB lets one process hold a file read-write, and while it does no other
process can open the file at all, not even read-only (notes/prefect.md §7).
So nobody keeps a connection open: writers take an exclusive ``flock`` on a
sibling ``.lock`` file for the length of one transaction, readers take a
shared one. Many readers run together (reports while nobody writes), a writer
waits for them, and a crashed process releases its lock with its file
descriptors, so there is nothing to clean up after a SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from docval.errors import StoreBusyError

__all__ = ["connect", "lock_path"]

_POLL_SECONDS = 0.005
# One thread per connection: a connection lives for one small transaction, and starting and joining DuckDB's
# default pool (a thread per core) doubled the wall time of every open and close (16 ms instead of 34 ms
# measured on the reference machine); no query here scans enough to gain from more.
_CONFIG = {"threads": 1}


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def connect(db_path: Path, *, write: bool, timeout: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``db_path`` for one unit of work; ``write=False`` opens read-only under a shared lock."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH, db_path, timeout)
        if not write and not db_path.exists():
            # A read-only open of a missing file fails; create it empty under an exclusive lock instead.
            fcntl.flock(fd, fcntl.LOCK_UN)
            _acquire(fd, fcntl.LOCK_EX, db_path, timeout)
            duckdb.connect(str(db_path), config=_CONFIG).close()
            fcntl.flock(fd, fcntl.LOCK_UN)
            _acquire(fd, fcntl.LOCK_SH, db_path, timeout)
        connection = duckdb.connect(str(db_path), read_only=not write, config=_CONFIG)
        try:
            yield connection
        finally:
            connection.close()
    finally:
        os.close(fd)  # releases the flock too


def _acquire(fd: int, mode: int, db_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreBusyError(f"{db_path} stayed locked by another process for {timeout:g} s") from None
            time.sleep(_POLL_SECONDS)
