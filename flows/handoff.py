"""Work handed to the running appliance: masking a reason, publishing a decided document, processing files.

Short commands pay for their own start-up: ``docval approve`` importing Presidio and building its engine
costs ~0.7 s of CPU, a served publish run starts in a child interpreter of the serving process (~2 s before
any work), and ``docval process --wait`` alone imports Prefect, loads Presidio and the model and starts
reading children (~5 s before its first document). The appliance has all of them warm: the workbench's PII
engine (same recognisers, same vault), the publish flow, run in a thread as a run of
``publish-decision/publish`` (``flows.reviewing.publisher``), and its worker with its toolkit. So
``docval up`` listens on a Unix socket in Linux's abstract namespace (nothing on disk to go stale after a
crash; a second appliance on the same data directory cannot take it), one JSON request per connection:

- ``{"action": "publish", "doc": ID}``: the appliance finds the document's home ledger itself and the
  publish flow re-reads the ledger, so whoever connects can at most make the appliance publish, a little
  earlier, what the ledger already says is decided (publishing is idempotent);
- ``{"action": "mask", "doc": ID, "reason": TEXT}``: the reason masked as the command would mask it, the
  originals stored in that document's vault entries; the text is never logged;
- ``{"action": "process", "files": [PATH, …], "wait": BOOL}``: absolute paths, their bytes in hex (a file name
  need not be UTF-8). The worker claims the files (the command's copies in the work area's staging folder,
  or the user's files with ``--move``) on its own loop, as it claims inbox files, and runs them as its next
  batch. One reply line once they are claimed (``{"claimed": [ID, …], "refused": [[NAME, REASON], …]}``)
  and, with ``wait``, a second once the batch is done (``{"states": {ID: STATE}}``); either may be
  ``{"error": WHY}``. Paths are never logged.

Only processes of the appliance's own OS account, or root, are answered (``SO_PEERCRED``): the same account
that can read the data directory, and move any file it could hand over, anyway. The command checks the
listener the same way before it sends anything: an abstract name has no file permissions, so another account
could bind it first to collect reasons or file names, and the command then refuses (exit 2) rather than talk
to it. Without ``docval up`` nothing listens and the command does the work itself (``flows.approvals.decide``,
``flows.approvals.trigger``, ``flows.standalone``).
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from docval.settings import Settings
from flows.errors import FlowError

if TYPE_CHECKING:
    from flows.worker import Intake

__all__ = ["Handover", "address", "hand_off", "handing_over", "listening", "masked_by_appliance"]

log = logging.getLogger(__name__)

REPLY_SECONDS = 30.0  # a run's creation is one Prefect request, masking well under a second: a loaded machine
MAX_REASON = 10_000  # characters; a longer reason is masked by the command itself
MAX_FILES = 20_000  # per hand-over; each path at most 4,096 bytes (Linux's PATH_MAX); more: the command works alone
_LIMIT = 12 * MAX_REASON + 256  # bytes of a publish or mask line: JSON escapes one character in up to 12 bytes
_PROCESS_LIMIT = MAX_FILES * 8200  # bytes of a process line (or of its claimed reply)
_PEER = struct.Struct("3i")  # pid, uid, gid of SO_PEERCRED
# Both ends trust only this account and root: the appliance answers no other, and the command talks to no other
# (an abstract name has no file permissions, so any local account could bind it first and collect reasons).
_TRUSTED = frozenset({os.getuid(), 0})

Publish = Callable[[str], str | None]  # doc id -> the id of its publish run
Mask = Callable[[str, str], str]  # (doc id, reason) -> the reason masked
Process = Callable[[list[Path]], "Intake"]  # files -> the worker's intake, claimed and run on its loop

_DocId = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublishRequest(_Request):
    action: Literal["publish"]
    doc: _DocId


class MaskRequest(_Request):
    action: Literal["mask"]
    doc: _DocId
    reason: str = Field(max_length=MAX_REASON)


class ProcessRequest(_Request):
    action: Literal["process"]
    files: list[Annotated[str, Field(pattern=r"^(?:[0-9a-f]{2}){1,4096}$")]] = Field(min_length=1, max_length=MAX_FILES)
    wait: bool

    def paths(self) -> list[Path]:
        return [Path(os.fsdecode(bytes.fromhex(name))) for name in self.files]


HandOff = Annotated[PublishRequest | MaskRequest | ProcessRequest, Field(discriminator="action")]
_REQUEST: TypeAdapter[HandOff] = TypeAdapter(HandOff)  # type: ignore[arg-type]


def address(settings: Settings) -> bytes:
    """The socket's abstract name: one per data directory, so appliances beside each other never cross."""
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:32]
    return b"\0docval-handoff-" + digest.encode()


def hand_off(settings: Settings, doc: str) -> str | None:
    """Ask the running appliance to publish ``doc``; the id of its publish run, or None if no appliance listens."""
    reply = _ask(settings, PublishRequest(action="publish", doc=doc))
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
        reply = _ask(settings, MaskRequest(action="mask", doc=doc, reason=reason))
    except FlowError:
        return None
    return reply.get("masked") if reply is not None else None


def _ask(settings: Settings, request: _Request) -> dict[str, Any] | None:
    """One request to the appliance; its JSON reply, or None if no appliance listens."""
    with _connected(settings) as sock:
        if sock is None:
            return None
        try:
            _send(sock, request.model_dump())
            return json.loads(_line(sock.makefile("rb"), _LIMIT) or b"{}")
        except (OSError, ValueError) as exc:
            raise FlowError(f"the appliance did not answer ({type(exc).__name__}); its sweep publishes it") from None


@contextmanager
def _connected(settings: Settings, timeout: float | None = REPLY_SECONDS) -> Iterator[socket.socket | None]:
    """A connection to this data directory's appliance, checked to be ours; None if no appliance listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address(settings))
        except OSError:  # refused: no appliance; elsewhere than Linux there is no abstract namespace either
            yield None
            return
        if (holder := _peer_uid(sock)) not in _TRUSTED:  # a squatter on the name: it gets nothing from us
            raise FlowError(
                f"the hand-off socket is held by another OS account (uid {holder}), not this appliance: nothing "
                "was sent; stop that process, or stop `docval up` and run the command again"
            )
        yield sock


@dataclass
class Handover:
    """``docval process``'s side of a process hand-off: what the appliance claimed, then how the batch ended."""

    replies: BinaryIO
    docs: list[str]
    refused: list[tuple[str, str]]

    def states(self) -> dict[str, str]:
        """Blocks until the appliance has run the batch; each claimed document's state."""
        reply = _reply_line(self.replies, "running the batch")
        if "states" not in reply:
            raise FlowError(str(reply.get("error", "the appliance gave no states")))
        return dict(reply["states"])


@contextmanager
def handing_over(settings: Settings) -> Iterator[Callable[[list[Path], bool], Handover] | None]:
    """A function handing files to the running appliance's worker (``(files, wait) -> Handover``), or None.

    None: no appliance listens, and the command processes the files itself. The connection stays open while
    the batch runs, so an appliance that stops half-way is noticed (its next start finishes the documents).
    """
    with _connected(settings, timeout=None) as sock:  # a batch takes as long as it takes; Ctrl-C ends the wait
        if sock is None:
            yield None
            return

        def hand(files: list[Path], wait: bool) -> Handover:
            names = [os.fsencode(path.absolute()).hex() for path in files]
            _send(sock, {"action": "process", "files": names, "wait": wait})
            replies = sock.makefile("rb")  # buffered: both reply lines may arrive in one read
            reply = _reply_line(replies, "claiming the files")
            if "claimed" not in reply:
                raise FlowError(str(reply.get("error", "the appliance claimed nothing")))
            return Handover(replies, list(reply["claimed"]), [tuple(pair) for pair in reply.get("refused", [])])

        yield hand


def _reply_line(replies: BinaryIO, doing: str) -> dict[str, Any]:
    try:
        line = _line(replies, _PROCESS_LIMIT)
    except OSError as exc:
        line, cause = None, type(exc).__name__
    else:
        cause = "it closed the connection"
    if line is None:
        raise FlowError(
            f"the appliance stopped while {doing} ({cause}); whatever it claimed is in its work area and its next "
            "start finishes it; files it did not claim were not taken"
        )
    return json.loads(line)


def _send(sock: socket.socket, request: dict[str, Any]) -> None:
    sock.sendall(json.dumps(request).encode() + b"\n")


@contextmanager
def listening(settings: Settings, publish: Publish, mask: Mask, process: Process | None = None) -> Iterator[None]:
    """Answer hand-offs for the length of the block; ``process``: the worker's, if files may be handed in."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address(settings))
    except OSError as exc:  # another appliance on this data directory already answers: leave it to it
        sock.close()
        log.warning("not listening for hand-offs (%s); `docval approve` and `docval process` work alone", exc)
        yield
        return
    sock.listen(16)
    answer = _answerer(_Handlers(publish, mask, process))
    thread = threading.Thread(target=_accept, args=(sock, answer), name="handoff", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (no polling while idle)
        sock.close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class _Handlers:
    publish: Publish
    mask: Mask
    process: Process | None


def _accept(sock: socket.socket, answer: Callable[[socket.socket], None]) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:  # shut down: the appliance stops
            return
        threading.Thread(target=answer, args=(conn,), name="handoff-conn", daemon=True).start()


def _answerer(handlers: _Handlers) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        """One hand-off: a request in, its reply lines (or ``{"error": why}``) out."""
        with conn:
            conn.settimeout(REPLY_SECONDS)
            try:
                for reply in _replies(conn, handlers):
                    with contextlib.suppress(OSError):  # the caller gave up waiting; the work goes on all the same
                        _send(conn, reply)
            except Exception as exc:  # the command goes on by itself; the sweep publishes what is left
                log.error("a hand-off failed (%s)", type(exc).__name__)
                with contextlib.suppress(OSError):
                    _send(conn, {"error": f"the appliance failed ({type(exc).__name__})"})

    return answer


def _peer_uid(sock: socket.socket) -> int:
    """The OS account at the socket's other end, as the kernel states it (not what the peer says)."""
    _, uid, _ = _PEER.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER.size))
    return uid


def _replies(conn: socket.socket, handlers: _Handlers) -> Iterator[dict[str, Any]]:
    if _peer_uid(conn) not in _TRUSTED:
        yield {"error": "only the appliance's own OS account can hand work over"}
        return
    try:
        request = _REQUEST.validate_json(_line(conn.makefile("rb"), _PROCESS_LIMIT) or b"")
    except ValidationError:
        yield {"error": "expected one JSON request: action publish or mask with a document id, or process with files"}
        return
    if isinstance(request, MaskRequest):
        yield {"masked": handlers.mask(request.doc, request.reason)}
    elif isinstance(request, PublishRequest):
        yield {"run": handlers.publish(request.doc) or "(none: called without the publish deployment)"}
    else:
        yield from _processed(request, handlers.process)


def _processed(request: ProcessRequest, process: Process | None) -> Iterator[dict[str, Any]]:
    """The worker claims the files on its loop, then runs them: one reply for each (flows.worker.Intake)."""
    if process is None:
        yield {"error": "this appliance takes no files over its socket; drop them into its inbox"}
        return
    intake = process(request.paths())
    intake.claimed.wait()
    if intake.error is not None:
        yield {"error": intake.error}
        return
    yield {"claimed": intake.docs, "refused": intake.refused}
    if request.wait:
        intake.done.wait()
        yield {"error": intake.error} if intake.error is not None else {"states": intake.states}


def _line(lines: BinaryIO, limit: int) -> bytes | None:
    """One newline-terminated line of at most ``limit`` bytes, without its newline (None: none came)."""
    line = lines.readline(limit + 1)
    return line[:-1] if line.endswith(b"\n") else None
