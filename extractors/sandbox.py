"""Run parser code in reusable, resource-limited child processes that can be killed.

A hostile PDF can make a parser loop for ever inside C code, allocate until the
machine swaps, or crash the interpreter. None of that may touch the worker, so
every parse runs in a child process with an address-space limit (RLIMIT_AS);
the parent waits with a deadline and kills the child when it passes. Children
are fresh interpreters (``python -m extractors.sandbox``: no fork of a threaded
parent such as Prefect, no re-import of the caller's ``__main__``) started once
and reused, so the cost per document is a pipe round trip, not an interpreter start.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import os
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from docval.errors import DocvalError

__all__ = ["Sandbox", "SandboxCrashed", "SandboxMemory", "SandboxTimeout", "sandbox_for"]

_START_TIMEOUT_SECONDS = 60.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class SandboxTimeout(Exception):
    """The child did not answer within the deadline and was killed."""


class SandboxMemory(Exception):
    """The child ran out of its address-space allowance."""


class SandboxCrashed(Exception):
    """The child died or raised something unexpected; the argument names the exception type or signal only."""


def _serve(conn: Connection, memory_bytes: int, preload: str = "") -> None:
    """Child main loop: apply limits, import ``preload`` (a module name, if any), then run ``(func, args)`` requests
    until the parent goes away."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ["OMP_THREAD_LIMIT"] = "1"  # tesseract: 2-5x faster on 2 cores than its default threading
    # A child that also extracts imports NumPy: OpenBLAS reserves address space per thread, which the limit counts
    # (80 MB of it on 2 cores); one document's arithmetic never needs a second thread.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    logging.disable(logging.WARNING)  # parser warnings quote document bytes; nothing here may log content
    if preload:
        importlib.import_module(preload)  # under the start timeout, not the first request's deadline
    _collect_less()
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent exited or closed the sandbox
            return
        func, args = request
        try:
            reply: tuple[str, Any] = ("ok", func(*args))
        except MemoryError:
            reply = ("memory", None)
        except DocvalError as exc:
            reply = ("raise", exc)
        except BaseException as exc:  # anything else is a parser bug triggered by the input: report its type only
            reply = ("crash", type(exc).__name__)
        conn.send(reply)


# Objects allocated between two young collections of Python's cyclic collector (its default: 700). A parse allocates
# hundreds of thousands of small objects that all live until the document is done; at 700 the collector ran over
# and over on them without finding garbage (benchmarks/README.md, session 17: 12 % of a reading child's CPU).
_YOUNG_OBJECTS = 20_000


def _collect_less() -> None:
    """Tune the cyclic collector for a child: what it imported lives as long as it does (frozen: no collection walks
    it again), and young collections run every ``_YOUNG_OBJECTS`` allocations. Cycles are still collected."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_OBJECTS, older, oldest)


class _Child:
    def __init__(self, memory_bytes: int, preload: str) -> None:
        parent_end, child_end = socket.socketpair()
        env = dict(os.environ)
        # The child imports this checkout even when docval is not installed (development worktrees).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "extractors.sandbox", str(child_end.fileno()), str(memory_bytes), preload],
            pass_fds=[child_end.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a dying parser's traceback could quote document bytes
        )
        child_end.close()
        self.conn = Connection(parent_end.detach())

    def wait_started(self) -> None:
        """Block until the child has applied its limits and imported its ``preload`` (the caller kills it if not)."""
        try:
            started = self.conn.poll(_START_TIMEOUT_SECONDS) and self.conn.recv()
        except (EOFError, OSError):
            started = None
        if not started:
            raise SandboxCrashed("child did not start")

    def call(self, func: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
        self.conn.send((func, args))
        try:  # close() from another thread shuts the pipe under a waiting poll: EBADF, the child is gone
            answered = self.conn.poll(timeout)
            status, value = self.conn.recv() if answered else ("", None)
        except (EOFError, OSError):
            raise SandboxCrashed(f"child exited with code {self.process.wait(5)}") from None
        if not answered:
            raise SandboxTimeout
        if status == "ok":
            return value
        if status == "memory":
            raise SandboxMemory
        if status == "raise":
            raise value
        raise SandboxCrashed(value)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.conn.close()


class Sandbox:
    """A small pool of children sharing one memory limit; safe to call from several threads."""

    def __init__(self, memory_bytes: int, *, keep_idle: int = 2, preload: str = "") -> None:
        self.memory_bytes = memory_bytes
        self._keep_idle = keep_idle
        self._preload = preload
        self._idle: list[_Child] = []
        self._live: set[_Child] = set()  # idle, starting and busy: what ``close`` must not leave behind
        self._lock = threading.Lock()

    def run(self, func: Callable[..., Any], *args: Any, timeout: float) -> Any:
        """``func(*args)`` in a child (``func`` must be importable by name); raises the Sandbox* errors."""
        with self._lock:
            child = self._idle.pop() if self._idle else None
        child = child or self._start()
        try:
            result = child.call(func, args, timeout)
        except DocvalError:
            self._release(child)  # the child answered with an expected error and is ready for the next request
            raise
        except BaseException:
            self._kill(child)  # a limit was hit or the wait was interrupted: its state is unknown, never reuse it
            raise
        self._release(child)
        return result

    def _start(self) -> _Child:
        child = _Child(self.memory_bytes, self._preload)
        with self._lock:
            self._live.add(child)
        try:
            child.wait_started()
        except BaseException:
            self._kill(child)
            raise
        return child

    def _release(self, child: _Child) -> None:
        with self._lock:
            if len(self._idle) < self._keep_idle:
                self._idle.append(child)
                return
        self._kill(child)

    def _kill(self, child: _Child) -> None:
        with self._lock:
            self._live.discard(child)
        child.kill()

    def close(self) -> None:
        """Kill every child, busy or starting ones too (a caller still waiting on one gets ``SandboxCrashed``)."""
        with self._lock:
            live, self._live, self._idle = self._live, set(), []
        for child in live:
            child.kill()


_SANDBOXES: dict[tuple[int, str], Sandbox] = {}
_SANDBOXES_LOCK = threading.Lock()


def sandbox_for(memory_bytes: int, role: str = "parse", *, preload: str = "") -> Sandbox:
    """The process-wide sandbox for this memory limit and role (children are reused across documents).

    Children keep what they import, so work that loads more than a parser (``role="read"``: parse, then extract
    with the rules and the trained model) runs in children of its own, and a plain parse keeps its full headroom
    under the same limit. ``preload`` names a module each new child of the role imports while it starts (seconds
    of imports for a reader, which must not eat into its first document's parse deadline)."""
    with _SANDBOXES_LOCK:
        if (memory_bytes, role) not in _SANDBOXES:
            _SANDBOXES[(memory_bytes, role)] = Sandbox(memory_bytes, preload=preload)
        return _SANDBOXES[(memory_bytes, role)]


@atexit.register
def _close_all() -> None:
    """No child outlives the process that started it. An idle child exits by itself once its pipe closes, but one
    that holds NumPy and the model (a reading child) takes a while to tear its interpreter down, and a command
    such as ``docval process --wait`` must end with its processes, not seconds later."""
    with _SANDBOXES_LOCK:
        sandboxes = list(_SANDBOXES.values())
    for sandbox in sandboxes:
        sandbox.close()


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]), *sys.argv[3:4])
