"""No key material in what the flows leave behind: Prefect's database (parameters, states), its result
storage and server log, the worker's log, the ledger, the store, the outbox, quarantine reasons.

A remote model tier with a bearer key file is switched on (a real chat-completions server on 127.0.0.1
stands in for it), so one more secret travels on every call. The sample inbox then runs through the
Prefect flow, logging at DEBUG. Every secret of the keys folders — the HMAC key, the ledger signing key,
the PII master key, users' approval keys, the model API key — is searched for raw, as hex and as base64
(and, for keys stored as text, every long token and its decoded bytes), through pii's scanner, which
reads SQLite and DuckDB tables as well as files. Public verifier keys are not secrets and are skipped.
About 15 s.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from docval.settings import Settings, load_settings
from ledger import Ledger
from tests.extractors.extract_chat_server import Behaviour, ChatServer

PUBLIC_SUFFIXES = (".vkey", ".pub")


def _secret_files(settings: Settings) -> list[Path]:
    """The appliance's keys, and the demo people's private keys (kept outside the data directory)."""
    from flows.approvals.enrol import demo_keys_dir

    folders = {settings.keys_dir.resolve(), settings.ledger_keys_dir.resolve(), demo_keys_dir(settings)}
    files = {path for folder in folders for path in folder.rglob("*") if path.is_file()}
    return sorted(path for path in files if not path.name.endswith(PUBLIC_SUFFIXES))


def _secret_part(path: Path, people: set[Path]) -> bytes:
    """What must never leak of a key file: an OpenSSH private key file also carries its public key, which the
    ledger rightly holds (enrolment), so for people's keys only the private scalar is searched for."""
    if path not in people:
        return path.read_bytes()
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    return load_ssh_private_key(path.read_bytes(), password=None).private_bytes_raw()


def _forms(data: bytes) -> Iterator[str]:
    """Text forms a secret could leak in: hex and base64 of the bytes; for text keys, each long token too."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = None
    raws = [data] if text is None else []
    if text is not None:
        for token in re.split(r"[\s+]", text):
            if len(token) >= 16 and not token.startswith("-----") and token not in {"PRIVATE", "BEGIN", "END"}:
                yield token
                with contextlib.suppress(binascii.Error, ValueError):
                    raws.append(base64.b64decode(token, validate=True))
        body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
        if body != text.strip():
            yield body
            with contextlib.suppress(binascii.Error, ValueError):
                raws.append(base64.b64decode(body, validate=True))
    for raw in raws:
        for piece in {raw, raw[-32:]} if len(raw) > 32 else {raw}:  # Ed25519 seeds end PKCS8 and note keys
            if len(piece) >= 16:
                yield piece.hex()
                yield base64.b64encode(piece).decode()
                yield base64.urlsafe_b64encode(piece).decode().rstrip("=")


def _collect(settings: Settings, prefect_home: Path, log_text: str) -> Path:
    """One folder holding what the scan reads: consistent copies of live databases, logs, ledger text."""
    scan_dir = settings.data_dir.parent / "secret-scan"
    scan_dir.mkdir()
    (scan_dir / "worker.log").write_text(log_text)
    with sqlite3.connect(prefect_home / "prefect.db") as live, sqlite3.connect(scan_dir / "prefect.db") as copy:
        live.backup(copy)
    for name in ("server.log",):
        if (prefect_home / name).exists():
            shutil.copy(prefect_home / name, scan_dir / name)
    ledger = Ledger.open(settings)
    (scan_dir / "ledger.jsonl").write_bytes(b"\n".join(entry.canonical for entry in ledger.entries()))
    (scan_dir / "checkpoints.txt").write_text("\n".join(ledger.checkpoints()))
    return scan_dir


def test_no_key_material_in_prefect_logs_parameters_or_ledger(
    flow_settings: Settings,
    prefect_server: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from extractors.samples import write_sample_inbox
    from flows.batch import process_batch, worker_context
    from flows.worker import Worker
    from pii.scan import ValueIndex, scan_paths

    api_key = "sk-test-" + os.urandom(24).hex()
    key_file = flow_settings.keys_dir / "remote_model.key"
    key_file.write_text(api_key + "\n")
    key_file.chmod(0o600)
    model = ChatServer()
    model.default = Behaviour(answer={"seller_name": "ACME Lieferdienste GmbH"})
    remote = {
        "ENABLED": "true",
        "BASE_URL": model.base_url,
        "MODEL": "remote-test",
        "API_KEY_FILE": "keys/remote_model.key",
    }
    for name, value in remote.items():
        monkeypatch.setenv(f"DOCVAL_EXTRACT__ROUTER__REMOTE__{name}", value)
    worker_context.cache_clear()
    settings = load_settings()
    write_sample_inbox(settings.inbox, count=8)
    try:
        with caplog.at_level(logging.DEBUG):
            worker = Worker(worker_context(), process=lambda d, r: process_batch(d, r), request_approvals=len)
            worker.run(threading.Event(), exit_when_idle=True)
    finally:
        model.stop()
    assert model.headers and {h.get("authorization") for h in model.headers} == {f"Bearer {api_key}"}
    assert len(list(settings.outbox.glob("*.json"))) == 8

    secrets = _secret_files(settings)
    names = {path.name for path in secrets}
    assert {"hmac.key", "ledger.key", "remote_model.key", "bob", "erin"} <= names  # bob, erin: demo SSH keys
    from flows.approvals.enrol import demo_keys_dir

    people = {p for p in secrets if p.is_relative_to(demo_keys_dir(settings))}
    assert people and not any(p.is_relative_to(settings.data_dir.resolve()) for p in people)
    index = ValueIndex((f"SECRET {path.name}", form) for path in secrets for form in _forms(_secret_part(path, people)))
    scan_dir = _collect(settings, prefect_server[1], caplog.text)
    vault = [path for path in settings.data_dir.rglob("*") if "vault" in path.name]  # ciphertext by design
    targets = [scan_dir, prefect_server[1], settings.data_dir]
    hits = scan_paths(targets, values=index, skip=[*secrets, *vault])
    assert [str(hit) for hit in hits if hit.source == "vault"] == []  # "vault" = found one of our needles
    raw = [_secret_part(path, people) for path in secrets]
    for path in (p for target in targets for p in target.rglob("*") if p.is_file() and p not in secrets):
        data = path.read_bytes()
        assert not any(len(secret) >= 16 and secret.strip() in data for secret in raw), f"raw key bytes in {path}"
