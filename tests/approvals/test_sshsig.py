"""SSHSIG verification without ssh-keygen, cross-checked against the real ssh-keygen both ways."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from approvalcheck import make_key

from approvals.errors import ApprovalsError
from approvals.signatures import verify_signature
from approvals.sshsig import fingerprint, sign_with_ssh_keygen, verify_sshsig

MESSAGE = b'{"context":"docval decision v1","doc":"ab"}'


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return make_key(tmp_path, "bob")


def test_a_real_ssh_keygen_signature_verifies(key: Path) -> None:
    verify_sshsig(key.with_suffix(".pub").read_text(), MESSAGE, sign_with_ssh_keygen(key, MESSAGE))


def test_ssh_keygen_accepts_what_docval_accepts(key: Path, tmp_path: Path) -> None:
    signature = tmp_path / "m.sig"
    signature.write_text(sign_with_ssh_keygen(key, MESSAGE))
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bob {key.with_suffix('.pub').read_text()}")
    done = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "bob", "-n", "docval-decision", "-s", str(signature)],
        input=MESSAGE,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("message", "namespace", "why"),
    [(MESSAGE + b" ", "docval-decision", "does not match"), (MESSAGE, "file", "namespace")],
)
def test_altered_message_or_other_namespace_is_refused(key: Path, message: bytes, namespace: str, why: str) -> None:
    armored = sign_with_ssh_keygen(key, MESSAGE, namespace=namespace)
    with pytest.raises(ApprovalsError, match=why):
        verify_sshsig(key.with_suffix(".pub").read_text(), message, armored)


def test_a_signature_by_another_key_is_refused(key: Path, tmp_path: Path) -> None:
    other = make_key(tmp_path, "mallory")
    with pytest.raises(ApprovalsError, match="different key"):
        verify_sshsig(key.with_suffix(".pub").read_text(), MESSAGE, sign_with_ssh_keygen(other, MESSAGE))


def test_signer_kind_must_match_key_kind(key: Path) -> None:
    ssh_key = {"kind": "ssh-ed25519", "public_key": key.with_suffix(".pub").read_text()}
    with pytest.raises(ApprovalsError, match="cannot come from"):
        verify_signature(ssh_key, MESSAGE, {"kind": "webauthn", "signature": "AA"})


def test_fingerprint_is_what_ssh_keygen_prints(key: Path) -> None:
    printed = subprocess.run(["ssh-keygen", "-lf", str(key.with_suffix(".pub"))], capture_output=True, text=True)
    assert fingerprint(key.with_suffix(".pub").read_text()) == printed.stdout.split()[1]


def test_ssh_agent_signs_when_given_the_public_key(key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        while not socket.exists():
            assert agent.poll() is None, "ssh-agent did not start"
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        subprocess.run(["ssh-add", "-q", str(key)], check=True, capture_output=True)
        key.unlink()  # only the agent holds the private key now
        armored = sign_with_ssh_keygen(key.with_suffix(".pub"), MESSAGE)
        verify_sshsig(key.with_suffix(".pub").read_text(), MESSAGE, armored)
    finally:
        agent.terminate()
        agent.wait()
