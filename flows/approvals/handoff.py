"""``docval approve`` hands work to the running appliance: masking its reason, publishing a decided document.

The command is a short process whose own start-up counts toward a decision's latency: importing Presidio and
building its engine cost it ~0.7 s of CPU, and a served publish run starts in a child interpreter of the
serving process (~2 s before any work). The appliance has both warm: the workbench's PII engine (same
recognisers, same vault) and the publish flow, run in a thread as a run of ``publish-decision/publish``
(``flows.reviewing.publisher``). So ``docval up`` listens on a Unix socket in Linux's abstract namespace
(nothing on disk to go stale after a crash; a second appliance on the same data directory cannot take it),
one JSON request per connection:

- ``{"action": "publish", "doc": ID}``: the appliance finds the document's home ledger itself and the
  publish flow re-reads the ledger, so whoever connects can at most make the appliance publish, a little
  earlier, what the ledger already says is decided (publishing is idempotent);
- ``{"action": "mask", "doc": ID, "reason": TEXT}``: the reason masked as the command would mask it, the
  originals stored in that document's vault entries; the text is never logged.

Only processes of the appliance's own OS account, or root, are answered (``SO_PEERCRED``): the same account
that can read the data directory anyway. The command checks the listener the same way before it sends anything:
an abstract name has no file permissions, so another account could bind it first to collect reasons, and the
command then refuses (exit 2) rather than talk to it. Without ``docval up`` nothing listens and the command does both
itself (``flows.approvals.decide``, ``flows.approvals.trigger``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docval.settings import Settings
from flows.errors import FlowError

__all__ = ["HandOff", "address", "hand_off", "listening", "masked_by_appliance"]

log = logging.getLogger(__name__)

REPLY_SECONDS = 30.0  # a run's creation is one Prefect request, masking well under a second: a loaded machine
MAX_REASON = 10_000  # characters; a longer reason is masked by the command itself
_LIMIT = 12 * MAX_REASON + 256  # bytes of one line: JSON escapes one character in up to 12 bytes
_PEER = struct.Struct("3i")  # pid, uid, gid of SO_PEERCRED
# Both ends trust only this account and root: the appliance answers no other, and the command talks to no other
# (an abstract name has no file permissions, so any local account could bind it first and collect reasons).
_TRUSTED = frozenset({os.getuid(), 0})

Publish = Callable[[str], str | None]  # doc id -> the id of its publish run
Mask = Callable[[str, str], str]  # (doc id, reason) -> the reason masked


class HandOff(BaseModel):
    """One request: ids and, to mask, the reason; nothing else is accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["publish", "mask"]
    doc: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str | None = Field(default=None, max_length=MAX_REASON)


def address(settings: Settings) -> bytes:
    """The socket's abstract name: one per data directory, so appliances beside each other never cross."""
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:32]
    return b"\0docval-handoff-" + digest.encode()


def hand_off(settings: Settings, doc: str) -> str | None:
    """Ask the running appliance to publish ``doc``; the id of its publish run, or None if no appliance listens."""
    reply = _ask(settings, HandOff(action="publish", doc=doc))
    if reply is None:
        return None
    if "run" not in reply:
        raise FlowError(f"the appliance could not start publishing ({reply.get('error', 'no answer')})")
    return str(reply["run"])


def masked_by_appliance(settings: Settings, doc: str, reason: str) -> str | None:
    """``reason`` masked by the running appliance's PII engine; None if none listens or it could not."""
    if len(reason) > MAX_REASON:
        return None
    try:
        reply = _ask(settings, HandOff(action="mask", doc=doc, reason=reason))
    except FlowError:
        return None
    return reply.get("masked") if reply is not None else None


def _ask(settings: Settings, request: HandOff) -> dict[str, Any] | None:
    """One request to the appliance; its JSON reply, or None if no appliance listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(REPLY_SECONDS)
        try:
            sock.connect(address(settings))
        except OSError:  # refused: no appliance; elsewhere than Linux there is no abstract namespace either
            return None
        if (holder := _peer_uid(sock)) not in _TRUSTED:  # a squatter on the name: it gets no reason, no id
            raise FlowError(
                f"the hand-off socket is held by another OS account (uid {holder}), not this appliance: nothing "
                "was sent; stop that process, or run `docval up` before deciding"
            )
        try:
            sock.sendall(request.model_dump_json(exclude_none=True).encode() + b"\n")
            return json.loads(_line(sock, _LIMIT) or b"{}")
        except (OSError, ValueError) as exc:
            raise FlowError(f"the appliance did not answer ({type(exc).__name__}); its sweep publishes it") from None


@contextmanager
def listening(settings: Settings, publish: Publish, mask: Mask) -> Iterator[None]:
    """Answer hand-offs for the length of the block."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address(settings))
    except OSError as exc:  # another appliance on this data directory already answers: leave it to it
        sock.close()
        log.warning("not listening for hand-offs (%s); `docval approve` masks and starts served runs itself", exc)
        yield
        return
    sock.listen(16)
    thread = threading.Thread(target=_accept, args=(sock, _answerer(publish, mask)), name="handoff", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (no polling while idle)
        sock.close()
        thread.join(timeout=5)


def _accept(sock: socket.socket, answer: Callable[[socket.socket], None]) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:  # shut down: the appliance stops
            return
        threading.Thread(target=answer, args=(conn,), name="handoff-conn", daemon=True).start()


def _answerer(publish: Publish, mask: Mask) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        """One hand-off: a request in, ``{"run": id}``, ``{"masked": text}`` or ``{"error": why}`` out."""
        with conn:
            conn.settimeout(REPLY_SECONDS)
            try:
                reply = _reply(conn, publish, mask)
            except Exception as exc:  # the command goes on by itself; the sweep publishes what is left
                log.error("a hand-off failed (%s)", type(exc).__name__)
                reply = {"error": f"the appliance failed ({type(exc).__name__})"}
            with contextlib.suppress(OSError):  # the caller gave up waiting; a publish run goes on all the same
                conn.sendall(json.dumps(reply).encode() + b"\n")

    return answer


def _peer_uid(sock: socket.socket) -> int:
    """The OS account at the socket's other end, as the kernel states it (not what the peer says)."""
    _, uid, _ = _PEER.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER.size))
    return uid


def _reply(conn: socket.socket, publish: Publish, mask: Mask) -> dict[str, str]:
    if _peer_uid(conn) not in _TRUSTED:
        return {"error": "only the appliance's own OS account can hand work over"}
    try:
        request = HandOff.model_validate_json(_line(conn, _LIMIT) or b"")
    except ValidationError:
        return {"error": "expected one JSON request: action publish or mask, a document id (64 hex digits)"}
    if request.action == "mask":
        return {"masked": mask(request.doc, request.reason or "")}
    return {"run": publish(request.doc) or "(none: called without the publish deployment)"}


def _line(sock: socket.socket, limit: int) -> bytes | None:
    """One newline-terminated line of at most ``limit`` bytes, without its newline (None: none came)."""
    data = b""
    while b"\n" not in data and len(data) <= limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    line, newline, _ = data.partition(b"\n")
    return line if newline else None
