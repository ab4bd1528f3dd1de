"""approvals.passkey against assertions built with real keys of both accepted types, and every way one can lie."""

from __future__ import annotations

import hashlib
import json

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from approvals.errors import ApprovalsError
from approvals.passkey import b64url, cose_fingerprint, verify_webauthn

STATEMENT = b'{"context":"docval decision v1","decision":"approve"}'
ORIGIN, RP_ID = "http://localhost:8600", "localhost"


class Authenticator:
    """A software authenticator: the COSE key it enrols and the assertion bytes it would return."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "ed25519":
            self.private = ed25519.Ed25519PrivateKey.generate()
            raw = self.private.public_key().public_bytes_raw()
            self.cose = cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            numbers = self.private.public_key().public_numbers()
            x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
            self.cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})

    def key(self) -> dict[str, str]:
        return {
            "kind": "webauthn",
            "credential_id": "cred-1",
            "cose_public_key": b64url(self.cose),
            "rp_id": RP_ID,
            "origin": ORIGIN,
        }

    def sign(
        self,
        statement: bytes,
        *,
        flags: int = 0x05,
        rp_id: str = RP_ID,
        origin: str = ORIGIN,
        kind: str = "webauthn.get",
    ) -> dict[str, str]:
        client = {"type": kind, "challenge": b64url(hashlib.sha256(statement).digest()), "origin": origin}
        client_data = json.dumps(client).encode()
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + (7).to_bytes(4, "big")
        message = auth_data + hashlib.sha256(client_data).digest()
        if self.kind == "ed25519":
            signature = self.private.sign(message)
        else:
            signature = self.private.sign(message, ec.ECDSA(hashes.SHA256()))
        return {
            "kind": "webauthn",
            "credential_id": "cred-1",
            "authenticator_data": b64url(auth_data),
            "client_data_json": b64url(client_data),
            "signature": b64url(signature),
        }


@pytest.fixture(params=["ed25519", "es256"])
def authenticator(request: pytest.FixtureRequest) -> Authenticator:
    return Authenticator(request.param)


def test_a_genuine_assertion_verifies(authenticator: Authenticator) -> None:
    verify_webauthn(authenticator.key(), STATEMENT, authenticator.sign(STATEMENT))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"statement": b"another statement"}, "challenge is not SHA-256 of the statement"),
        ({"flags": 0x01}, "UP and UV flags required"),
        ({"rp_id": "evil.example"}, "rpIdHash"),
        ({"origin": "http://evil.example"}, "signed on origin"),
        ({"kind": "webauthn.create"}, "not 'webauthn.get'"),
    ],
)
def test_each_lie_is_refused(authenticator: Authenticator, change: dict, message: str) -> None:
    options = dict(change)
    evidence = authenticator.sign(options.pop("statement", STATEMENT), **options)
    with pytest.raises(ApprovalsError, match=message):
        verify_webauthn(authenticator.key(), STATEMENT, evidence)


def test_rewritten_client_data_breaks_the_signature(authenticator: Authenticator) -> None:
    evidence = authenticator.sign(STATEMENT)
    other = authenticator.sign(b"what the server wanted signed instead")
    forged = dict(evidence, client_data_json=other["client_data_json"])
    with pytest.raises(ApprovalsError, match="bad signature"):
        verify_webauthn(authenticator.key(), b"what the server wanted signed instead", forged)


def test_another_credential_or_key_is_refused(authenticator: Authenticator) -> None:
    evidence = authenticator.sign(STATEMENT)
    with pytest.raises(ApprovalsError, match="another credential"):
        verify_webauthn(authenticator.key(), STATEMENT, dict(evidence, credential_id="cred-2"))
    stranger = Authenticator(authenticator.kind)
    with pytest.raises(ApprovalsError, match="bad signature"):
        verify_webauthn(stranger.key(), STATEMENT, evidence)


def test_rs256_and_malformed_keys_are_refused() -> None:
    rsa_cose = b64url(cbor2.dumps({1: 3, 3: -257, -1: b"n", -2: b"e"}))
    evidence = Authenticator("ed25519").sign(STATEMENT)
    with pytest.raises(ApprovalsError, match="not accepted"):
        verify_webauthn(dict(Authenticator("ed25519").key(), cose_public_key=rsa_cose), STATEMENT, evidence)
    with pytest.raises(ApprovalsError, match="CBOR"):
        verify_webauthn(dict(Authenticator("ed25519").key(), cose_public_key=b64url(b"\xa5\x01")), STATEMENT, evidence)


def test_the_fingerprint_is_stable_and_short(authenticator: Authenticator) -> None:
    fingerprint = cose_fingerprint(authenticator.key()["cose_public_key"])
    assert fingerprint == cose_fingerprint(b64url(authenticator.cose))
    assert len(fingerprint.split(":")) == 8
