"""``docval approve`` hands a decided document to the running appliance, which publishes it in-process.

A served publish run starts in a child interpreter of the serving process (~2 s before any work); the
appliance runs the same flow as a run of ``publish-decision/publish`` in a thread, warm, as it does for the
workbench (``flows.reviewing.publisher``). So ``docval up`` listens on a Unix socket (Linux's abstract
namespace: nothing on disk to go stale after a crash, and a second appliance on the same data directory
cannot take it), and a connection carries one document id and nothing else. The appliance finds the
document's home ledger itself and the publish flow re-reads the ledger, so whoever connects can at most make
the appliance publish, a little earlier, what the ledger already says is decided (publishing is idempotent).
Only processes of the appliance's own OS account, or root, are answered (``SO_PEERCRED``). Nothing listens
without ``docval up``: the caller then starts the served run (``flows.approvals.trigger``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from docval.settings import Settings
from flows.errors import FlowError

__all__ = ["hand_off", "listening"]

log = logging.getLogger(__name__)

REPLY_SECONDS = 30.0  # creating the run is one request to the Prefect server; a loaded machine may be slow
_DOC = re.compile(rb"[0-9a-f]{64}")
_ACCEPT_POLL_SECONDS = 0.5  # how soon the listener notices the appliance stopping
_PEER = struct.Struct("3i")  # pid, uid, gid of SO_PEERCRED


def address(settings: Settings) -> bytes:
    """The socket's abstract name: one per data directory, so appliances beside each other never cross."""
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:32]
    return b"\0docval-publish-" + digest.encode()


def hand_off(settings: Settings, doc: str) -> str | None:
    """Ask the running appliance to publish ``doc``; the id of its publish run, or None if no appliance listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(REPLY_SECONDS)
        try:
            sock.connect(address(settings))
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        try:
            sock.sendall(doc.encode() + b"\n")
            reply = json.loads(_line(sock) or b"{}")
        except (OSError, ValueError) as exc:
            raise FlowError(f"the appliance did not answer ({type(exc).__name__}); its sweep publishes it") from None
    if "run" not in reply:
        raise FlowError(f"the appliance could not start publishing ({reply.get('error', 'no answer')})")
    return str(reply["run"])


@contextmanager
def listening(settings: Settings, publish: Callable[[str], str | None]) -> Iterator[None]:
    """Answer hand-offs for the length of the block with ``publish`` (doc id -> its run's id)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address(settings))
    except OSError as exc:  # another appliance on this data directory already answers: leave it to it
        sock.close()
        log.warning("not listening for decisions to publish (%s); `docval approve` starts served runs", exc)
        yield
        return
    sock.listen(16)
    sock.settimeout(_ACCEPT_POLL_SECONDS)
    stop = threading.Event()
    thread = threading.Thread(target=_accept, args=(sock, publish, stop), name="publish-handoff", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def _accept(sock: socket.socket, publish: Callable[[str], str | None], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        threading.Thread(target=_answer, args=(conn, publish), name="publish-handoff-conn", daemon=True).start()


def _answer(conn: socket.socket, publish: Callable[[str], str | None]) -> None:
    """One hand-off: a document id in, ``{"run": id}`` or ``{"error": why}`` out."""
    with conn:
        conn.settimeout(REPLY_SECONDS)
        try:
            reply = _publish_one(conn, publish)
        except Exception as exc:  # the decision stands; the sweep publishes what is left
            log.error("a hand-off to publish failed (%s)", type(exc).__name__)
            reply = {"error": f"publishing could not start ({type(exc).__name__})"}
        with contextlib.suppress(OSError):  # the caller gave up waiting; the run goes on all the same
            conn.sendall(json.dumps(reply).encode() + b"\n")


def _publish_one(conn: socket.socket, publish: Callable[[str], str | None]) -> dict[str, str | None]:
    _, uid, _ = _PEER.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER.size))
    if uid not in {os.getuid(), 0}:
        return {"error": "only the appliance's own OS account can hand documents over"}
    doc = _line(conn)
    if doc is None or not _DOC.fullmatch(doc):
        return {"error": "expected one document id (64 hex digits)"}
    return {"run": publish(doc.decode()) or "(none: called without the publish deployment)"}


def _line(sock: socket.socket, limit: int = 256) -> bytes | None:
    """One newline-terminated line of at most ``limit`` bytes, without its newline (None: none came)."""
    data = b""
    while b"\n" not in data and len(data) <= limit:
        chunk = sock.recv(limit)
        if not chunk:
            break
        data += chunk
    line, newline, _ = data.partition(b"\n")
    return line if newline else None
