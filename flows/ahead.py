"""Parses started before their batch asks for them, so the reading children work while the worker does not need them.

A batch's documents are parsed (and, with no endpoint tier, extracted) in the sandbox children, two at a time, one
per core, while this process runs the stages. The parses used to start with the batch's flow run, so the children
sat idle while the worker claimed the files and Prefect created and started the run: 0.37 s of a 58-document
batch's 3.4 s (benchmarks/README.md). The worker now starts them as the files are claimed, and the ingest stage
takes each document's parse from here, or starts it if nobody did (a resumed batch). One pool per process, so no
more than two parses run at once whoever starts them.

A parse is a pure function of the file, whose path is its content hash (``flows.claim.work_pdf``): a result
taken later is the result the stage would have computed itself. Nothing is ledgered here; the ingest stage
records each document's parse as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["Parses"]

T = TypeVar("T")


class Parses(Generic[T]):
    """Parses of files by path, started at most once each and handed to the first who takes them.

    ``limit``: parses held (started, not taken) at once. The head start only has to cover the worker's claim and the
    flow run's start, a dozen documents' worth of parsing; the batch parses the rest ahead itself. A small limit also
    keeps a burst of thousands of claimed files from holding their parsed pages in memory, and a stop from waiting
    on a long queue (queued parses run before the interpreter exits).
    """

    def __init__(self, parse: Callable[[Path], T], *, workers: int = 2, limit: int = 16) -> None:
        self._parse = parse
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse")
        self._limit = limit
        self._held: dict[Path, Future[T]] = {}
        self._lock = threading.Lock()

    def start(self, paths: Iterable[Path]) -> None:
        """Start parsing ``paths`` in order, those not started yet, while fewer than ``limit`` are held."""
        with self._lock:
            for path in paths:
                if len(self._held) >= self._limit:
                    return
                if path not in self._held:
                    self._held[path] = self._pool.submit(self._parse, path)

    def take(self, path: Path) -> Future[T] | None:
        """The parse started for ``path``, now the caller's alone (forgotten here: a retry parses again); None if
        none was started."""
        with self._lock:
            return self._held.pop(path, None)

    def submit(self, path: Path) -> Future[T]:
        """A parse of ``path`` started now, for the caller alone, in the same pool as the others."""
        return self._pool.submit(self._parse, path)
