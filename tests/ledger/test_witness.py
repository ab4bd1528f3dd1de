"""The C2SP witness (ledger/witness.py): cosignature format against the specs' vectors, and the witness's
refusals over real HTTP on 127.0.0.1 (rollback, fork, restart mid-submission). Real keys, real ledgers."""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from docval.settings import Settings
from ledger import EntryDraft, Ledger
from ledger.bundle_verify import (
    Checkpoint,
    CosignerKey,
    add_checkpoint,
    cosigned_message,
    count_cosigners,
    split_note,
)
from ledger.keys import SigningKey, anchor_path
from ledger.witness import add_log, cosign, init_witness, serve
from ledger.witnessing import cosignature_lines, cosigned_note, submit

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_signed_message_is_the_specs_example() -> None:
    """C2SP tlog-cosignature, "Ed25519 signed message"."""
    assert cosigned_message(SPEC_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_key_ids_and_timestamps_match_third_party_vectors() -> None:
    """transparency-dev/formats note_cosigv1_test.go: a native type-0x04 verifier key, and a cosignature
    whose timestamp field decodes to 1727964367 (bytes 4..12, big-endian)."""
    key = CosignerKey.parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    assert key.name == "remora.n621.de" and key.key_id.hex() == "da77ade7"
    raw = base64.b64decode(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
    )
    assert len(raw) == 4 + 8 + 64 and int.from_bytes(raw[4:12], "big") == 1727964367
    with pytest.raises(Exception, match="type 0x04"):  # an ordinary note key (type 0x01) is not a cosigner key
        CosignerKey.parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")


def test_cosignature_bytes_follow_the_spec_exactly() -> None:
    """Rebuilt by hand from the spec's text, with the cryptography library alone."""
    seed = bytes(range(32))
    key = SigningKey("witness.example/w1", Ed25519PrivateKey.from_private_bytes(seed))
    line = cosign(key, SPEC_BODY, 1679315147)
    public = key.verifier.public_key
    name, encoded = line.removeprefix("\u2014 ").removesuffix("\n").split(" ")
    raw = base64.b64decode(encoded)
    assert name == "witness.example/w1"
    assert raw[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert raw[4:12] == (1679315147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + SPEC_BODY.encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)  # raises if not
    assert raw[12:] == Ed25519PrivateKey.from_private_bytes(seed).sign(message)  # Ed25519 is deterministic
    encoded_key = base64.b64encode(bytes([4]) + public).decode()
    vkey = CosignerKey.parse(f"witness.example/w1+{raw[:4].hex()}+{encoded_key}")
    assert count_cosigners(SPEC_BODY + "\n" + line, [vkey]) == ["witness.example/w1"]
    assert count_cosigners(SPEC_BODY.replace("20852163", "20852164") + "\n" + line, [vkey]) == []


@pytest.fixture
def witness_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "witness"
    init_witness(directory, "witness.test/w1")
    return directory


def _serving(directory: Path) -> tuple[str, Callable[[], None]]:
    server = serve(directory, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    return f"http://127.0.0.1:{server.server_address[1]}", stop


@pytest.fixture
def running(witness_dir: Path, ledger: Ledger) -> Iterator[str]:
    add_log(witness_dir, ledger.config.origin, anchor_path(ledger.keys_dir).read_text())
    url, stop = _serving(witness_dir)
    yield url
    stop()


def _grow(ledger: Ledger, count: int, tag: str = "") -> str:
    ledger.append_many([EntryDraft("note", None, "tests", {"n": i, "tag": tag}) for i in range(count)])
    return ledger.checkpoint()


def _size(note: str) -> int:
    return Checkpoint.parse(split_note(note)[0]).size


def _forked(settings: Settings) -> Ledger:
    """Another ledger file signed with the same key: the operator rewriting history."""
    forged = settings.ledger.model_copy(update={"db_file": settings.data_dir / "forged.duckdb"})
    return Ledger(forged.db_file, settings.ledger_keys_dir, forged).created()


def test_cosigns_an_extension_and_refuses_rollback_and_fork(
    running: str, witness_dir: Path, ledger: Ledger, settings: Settings
) -> None:
    first = _grow(ledger, 5)
    status, line = add_checkpoint(running, 0, [], first)
    assert status == 200, line
    key = CosignerKey.parse((witness_dir / "witness.vkey").read_text())
    assert count_cosigners(first + line, [key]) == ["witness.test/w1"]
    second = _grow(ledger, 4)
    assert add_checkpoint(running, 0, [], second) == (409, "5\n")  # the witness says what it has
    proof = ledger.consistency_proof(5, 9)
    status, line = add_checkpoint(running, 5, proof, second)
    assert status == 200 and count_cosigners(second + line, [key]), line
    assert add_checkpoint(running, 9, [], first)[0] == 400  # rollback: old size above the checkpoint's
    assert add_checkpoint(running, 5, [], first) == (409, "9\n")
    fork = _forked(settings)  # the operator's own key signs the forged history
    forked = _grow(fork, 9, tag="forged")
    assert add_checkpoint(running, 9, [], forked) == (409, "9\n")  # same size, other root
    longer = _grow(fork, 3, tag="forged")
    assert add_checkpoint(running, 9, fork.consistency_proof(9, 12), longer)[0] == 422
    assert add_checkpoint(running, 9, ledger.consistency_proof(9, 9), second)[0] == 200  # same root: again


def test_unknown_origin_and_untrusted_signature(running: str, ledger: Ledger, tmp_path: Path) -> None:
    note = _grow(ledger, 2)
    assert add_checkpoint(running, 0, [], note.replace(ledger.config.origin, "other.example/log", 1))[0] == 404
    stranger = SigningKey.generate("stranger")
    body = split_note(note)[0]
    assert add_checkpoint(running, 0, [], body + "\n" + stranger.signature_line(body))[0] == 403


def test_restarted_mid_submission_never_cosigns_two_roots_at_one_size(
    witness_dir: Path, ledger: Ledger, settings: Settings
) -> None:
    add_log(witness_dir, ledger.config.origin, anchor_path(ledger.keys_dir).read_text())
    url, stop = _serving(witness_dir)
    honest = _grow(ledger, 7)
    assert add_checkpoint(url, 0, [], honest)[0] == 200
    stop()  # the answer may never have reached the log: it will resubmit after the restart
    leftover = witness_dir / "state" / ".half-written.tmp"
    leftover.write_text("{")  # what a crash between write and rename leaves behind: ignored
    url, stop = _serving(witness_dir)
    try:
        fork = _forked(settings)
        forged = _grow(fork, 7, tag="forged")
        assert add_checkpoint(url, 0, [], forged) == (409, "7\n")
        assert add_checkpoint(url, 7, [], forged) == (409, "7\n")
        assert add_checkpoint(url, 7, [], honest)[0] == 200
    finally:
        stop()


def _witnessed_ledger(settings: Settings, url: str, witness_dir: Path) -> Ledger:
    key = (witness_dir / "witness.vkey").read_text().strip()
    config = settings.ledger.model_copy(update={"witnesses": [f"{url} {key}"]})
    return Ledger(settings.ledger_db, settings.ledger_keys_dir, config).created()


def test_a_witness_that_is_down_is_retried_with_backoff_then_cosigns(
    witness_dir: Path, ledger: Ledger, settings: Settings
) -> None:
    add_log(witness_dir, ledger.config.origin, anchor_path(ledger.keys_dir).read_text())
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    down = _witnessed_ledger(settings, f"http://127.0.0.1:{port}", witness_dir)
    down.append_many([EntryDraft("note", None, "tests", {"n": 1})])
    down.sign_pending()  # signs, offers, fails: shown as not cosigned, retried later
    (status,) = submit(down)
    assert not status.cosigned and "next try in" in status.line(), status.line()
    url, stop = _serving(witness_dir)
    try:
        up = _witnessed_ledger(settings, url, witness_dir)
        (forced,) = submit(up, force=True)  # what `docval ledger checkpoint` does
        assert forced.cosigned, forced.line()
        with up.writer() as writer:  # the bulk writer offers its latest checkpoint when it lets the lock go
            writer.append_many([EntryDraft("note", None, "tests", {"n": n}) for n in range(3)])
        latest = up.latest_checkpoint()
        assert latest is not None and _size(latest) == 4
        key = CosignerKey.parse((witness_dir / "witness.vkey").read_text())
        assert count_cosigners(cosigned_note(latest, cosignature_lines(up)), [key]) == ["witness.test/w1"]
    finally:
        stop()


def test_docval_witness_serve_answers_the_c2sp_endpoint(witness_dir: Path, ledger: Ledger) -> None:
    """The shape an outside acceptance check uses: `docval witness serve DIR --listen 127.0.0.1:PORT`."""
    add_log(witness_dir, ledger.config.origin, anchor_path(ledger.keys_dir).read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "docval", "witness", "serve", str(witness_dir), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and "serving" in server.stdout.readline()
        note = _grow(ledger, 3)
        status, line = add_checkpoint(f"http://127.0.0.1:{port}", 0, [], note)
        key = CosignerKey.parse((witness_dir / "witness.vkey").read_text())
        assert status == 200 and count_cosigners(note + line, [key]) == ["witness.test/w1"], line
    finally:
        server.terminate()
        server.wait(10)
