"""A C2SP tlog-witness: ``docval witness init|add-log|serve``, run on another host by another party.

The witness trusts no log and the log does not trust it: it cosigns a checkpoint only if the checkpoint is
signed by a key it was told to trust for that origin (``add-log``) and extends, by an RFC 9162 consistency
proof, the latest checkpoint it cosigned for the origin. So once it has cosigned size N, a log rolled back
below N or forked at or after N never gets its cosignature again, and an auditor who asks it learns N.

State directory (0700): ``witness.key`` (0600, Go note private-key format, the same Ed25519 key that
transparency-dev turns into a cosignature/v1 signer), ``witness.vkey`` (its cosignature verifier key, type
0x04), ``logs/<id>.json`` (origin and the log's verifier keys) and ``state/<id>.json`` (latest cosigned size
and root), ``<id>`` being the SHA-256 of the origin. The state is written to a temporary file, fsynced and
renamed over the old one (then the folder fsynced) before the cosignature is returned, under the log's lock
with the check, so a crash or a restart mid-submission can never leave two different roots cosigned at one size.

HTTP (``serve``): ``POST <prefix>/add-checkpoint`` exactly as C2SP tlog-witness says: 200 with the
cosignature line, 400 malformed or old size above the checkpoint's, 403 no trusted signature, 404 unknown
origin, 409 with ``text/x.tlog.size`` when the old size is not the witness's (or same size, other root),
422 when the consistency proof fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ledger.bundle_verify import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    CosignerKey,
    VerifierKey,
    VerifyError,
    cosigned_message,
    key_id,
    open_note,
    split_note,
    verify_consistency,
)
from ledger.errors import LedgerError
from ledger.keys import SigningKey, load_signing_key, write_new_key

__all__ = ["Answer", "WitnessService", "add_log", "init_witness", "serve"]

KEY_FILE, VKEY_FILE = "witness.key", "witness.vkey"
MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


def cosigner_key(key: SigningKey) -> CosignerKey:
    """The cosignature/v1 verifier key of an Ed25519 note key: same public key, key id over type 0x04."""
    public = key.verifier.public_key
    return CosignerKey(key.name, key_id(key.name, public, ALG_COSIGNATURE_V1), public)


def cosign(key: SigningKey, body: str, timestamp: int) -> str:
    """One cosignature/v1 note signature line: key id || u64 big-endian timestamp || Ed25519 signature."""
    signature = key.private.sign(cosigned_message(body, timestamp))
    raw = cosigner_key(key).key_id + timestamp.to_bytes(8, "big") + signature
    return f"\u2014 {key.name} {base64.b64encode(raw).decode()}\n"


def init_witness(directory: Path, name: str) -> CosignerKey:
    """Create the witness's key (0600) and state folders; refuses to overwrite an existing witness."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    key = SigningKey.generate(name)
    write_new_key(directory / KEY_FILE, key)
    for folder in ("logs", "state"):
        (directory / folder).mkdir(mode=0o700, exist_ok=True)
    verifier = cosigner_key(key)
    _write_atomically(directory / VKEY_FILE, f"{verifier}\n")
    return verifier


def add_log(directory: Path, origin: str, vkeys: str) -> list[VerifierKey]:
    """Trust checkpoints of ``origin`` signed by any key in ``vkeys`` (one per line: a log's ledger.vkey, or a
    bundle's, which lists the keys handed over to). After ``docval keys rotate`` the log's operator hands the
    witness the new key; until then the witness refuses (403) what the new key signs."""
    if not origin or "\n" in origin:
        raise LedgerError("the origin must be one non-empty line")
    try:
        keys = [VerifierKey.parse(line) for line in vkeys.splitlines() if line.strip()]
    except VerifyError as exc:
        raise LedgerError(f"log verifier key: {exc}") from None
    if not keys:
        raise LedgerError("the log verifier key file holds no key")
    store = _Store(directory)
    trusted = store.trusted(origin) or []
    trusted += [str(key) for key in keys if str(key) not in trusted]
    _write_atomically(store.log_path(origin), json.dumps({"origin": origin, "keys": trusted}) + "\n")
    return keys


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


class _Store:
    """The witness's files; every write is atomic (temporary file, fsync, rename, folder fsync)."""

    def __init__(self, directory: Path) -> None:
        if not (directory / KEY_FILE).exists():
            raise LedgerError(f"{directory} is not a witness directory; run `docval witness init {directory}`")
        self.directory = directory

    def _id(self, origin: str) -> str:
        return hashlib.sha256(origin.encode()).hexdigest()

    def log_path(self, origin: str) -> Path:
        return self.directory / "logs" / f"{self._id(origin)}.json"

    def trusted(self, origin: str) -> list[str] | None:
        path = self.log_path(origin)
        return json.loads(path.read_text(encoding="utf-8"))["keys"] if path.exists() else None

    def latest(self, origin: str) -> tuple[int, bytes | None]:
        path = self.directory / "state" / f"{self._id(origin)}.json"
        if not path.exists():
            return 0, None
        state = json.loads(path.read_text(encoding="utf-8"))
        return state["size"], base64.b64decode(state["root"])

    def record(self, origin: str, checkpoint: Checkpoint) -> None:
        state = {"origin": origin, "size": checkpoint.size, "root": base64.b64encode(checkpoint.root).decode()}
        _write_atomically(self.directory / "state" / f"{self._id(origin)}.json", json.dumps(state) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class _Refusal(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.body)
        self.answer = answer


def _refuse(status: int, reason: str) -> _Refusal:
    return _Refusal(Answer(status, reason + "\n"))


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """``old <size>``, proof lines, an empty line, the signed checkpoint note."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(400, "request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    found = re.fullmatch(r"old (0|[1-9][0-9]*)", lines[0])
    if not sep or found is None:
        raise _refuse(400, "request must start with 'old <size>', proof lines and an empty line")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _refuse(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise _refuse(400, "a consistency proof line is not base64") from None
    return int(found.group(1)), proof, note


class WitnessService:
    """The add-checkpoint logic over a state directory; the HTTP layer only moves bytes in and out."""

    def __init__(self, directory: Path) -> None:
        self._store = _Store(directory)
        self._key = load_signing_key(directory / KEY_FILE)
        self._locks: dict[str, threading.Lock] = {}  # per origin: check and persist atomically (spec's A/B race)
        self._locks_lock = threading.Lock()

    @property
    def verifier(self) -> CosignerKey:
        return cosigner_key(self._key)

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            return self._add_checkpoint(body)
        except _Refusal as refusal:
            return refusal.answer

    def _add_checkpoint(self, body: bytes) -> Answer:
        old_size, proof, note = _parse_request(body)
        try:
            text = split_note(note)[0]
            checkpoint = Checkpoint.parse(text)
        except VerifyError as exc:
            raise _refuse(400, f"not a signed checkpoint: {exc}") from None
        trusted = self._store.trusted(checkpoint.origin)
        if trusted is None:
            raise _refuse(404, "unknown log origin")
        if not any(_signed_by(note, key) for key in trusted):
            raise _refuse(403, "no signature by a key this witness trusts for the origin")
        if old_size > checkpoint.size:
            raise _refuse(400, "old size is above the checkpoint size")
        if old_size == 0 and proof:
            raise _refuse(422, "the consistency proof must be empty from old size 0")
        with self._lock_for(checkpoint.origin):
            size, root = self._store.latest(checkpoint.origin)
            if old_size != size:
                raise _Refusal(Answer(409, f"{size}\n", SIZE_TYPE))
            if checkpoint.size == size and root is not None and checkpoint.root != root:
                raise _Refusal(Answer(409, f"{size}\n", SIZE_TYPE))  # a fork at the size already cosigned
            if 0 < size < checkpoint.size:
                try:
                    verify_consistency(size, checkpoint.size, proof, root or b"", checkpoint.root)
                except VerifyError as exc:
                    raise _refuse(422, f"consistency proof from {size} does not verify: {exc}") from None
            self._store.record(checkpoint.origin, checkpoint)  # persisted before the cosignature leaves
            return Answer(200, cosign(self._key, text, int(time.time())))

    def _lock_for(self, origin: str) -> threading.Lock:
        """One lock per log: logs never wait for each other's fsyncs, submissions of one log are serialised."""
        with self._locks_lock:
            return self._locks.setdefault(origin, threading.Lock())


def _signed_by(note: str, vkey: str) -> bool:
    try:
        open_note(note, VerifierKey.parse(vkey))
    except VerifyError:
        return False
    return True


def serve(directory: Path, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering the C2SP endpoints under ``http://host:port``; the caller runs ``serve_forever``."""
    service = WitnessService(directory)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the spec recommends

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/add-checkpoint":
                self._answer(Answer(404, "not found\n"))
            elif length > MAX_BODY:
                self._answer(Answer(400, "request too large\n"))
            else:
                self._answer(service.add_checkpoint(self.rfile.read(length)))

        def _answer(self, answer: Answer) -> None:
            data = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # requests carry only public checkpoints, but a witness log is the operator's choice

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
