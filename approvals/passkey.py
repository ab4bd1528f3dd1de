"""Verify a WebAuthn (passkey) decision signature from its stored bytes alone.

A decision signed in the workbench is a WebAuthn assertion whose challenge is
SHA-256 of the decision statement. What the authenticator signed is
``authenticatorData || SHA-256(clientDataJSON)``, so checking the signature and
then the client data's challenge, type and origin, and the authenticator data's
RP id hash and flags, proves that the enrolled credential approved exactly
these statement bytes on that origin with the user present and verified.

The check needs only ``cryptography``: the two COSE key types accepted
(Ed25519 = OKP/-8, ES256 = EC2/-7, what authenticators offer) are read with a
tiny CBOR reader below, so this module can be copied into the bundled
``verify.py`` as it is (with ``ApprovalsError`` defined there). The sign counter is not checked here: an auditor has
no live counter, and replay is stopped by the server nonce in every statement.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from approvals.errors import ApprovalsError

__all__ = ["b64url", "cose_fingerprint", "unb64url", "verify_webauthn"]

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
_OKP, _EC2 = 1, 2
_EDDSA, _ES256 = -8, -7
_ED25519, _P256 = 6, 1


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ApprovalsError(f"not base64url: {exc}") from None


def cose_fingerprint(cose_public_key: str) -> str:
    """What an admin reads aloud with the person before countersigning: SHA-256 of the COSE key, grouped."""
    digest = hashlib.sha256(unb64url(cose_public_key)).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def verify_webauthn(key: dict[str, Any], statement: bytes, evidence: dict[str, Any]) -> None:
    """Raise ``ApprovalsError`` unless ``evidence`` is the enrolled credential ``key`` signing ``statement``."""
    if key.get("kind") != "webauthn" or evidence.get("kind") != "webauthn":
        raise ApprovalsError("not a webauthn key and signature")
    if evidence.get("credential_id") != key.get("credential_id"):
        raise ApprovalsError("signed by another credential than the one enrolled")
    auth_data = unb64url(evidence["authenticator_data"])
    client_data_json = unb64url(evidence["client_data_json"])
    signature = unb64url(evidence["signature"])
    _check_signature(unb64url(key["cose_public_key"]), auth_data + hashlib.sha256(client_data_json).digest(), signature)
    _check_client_data(client_data_json, statement, key["origin"])
    _check_authenticator_data(auth_data, key["rp_id"])


def _check_client_data(client_data_json: bytes, statement: bytes, origin: str) -> None:
    try:
        client_data = json.loads(client_data_json)
    except ValueError:
        raise ApprovalsError("clientDataJSON is not JSON") from None
    if client_data.get("type") != "webauthn.get":
        raise ApprovalsError(f"clientDataJSON type is {client_data.get('type')!r}, not 'webauthn.get'")
    if unb64url(str(client_data.get("challenge", ""))) != hashlib.sha256(statement).digest():
        raise ApprovalsError("challenge is not SHA-256 of the statement")
    if client_data.get("origin") != origin:
        raise ApprovalsError(f"signed on origin {client_data.get('origin')!r}, enrolled for {origin!r}")


def _check_authenticator_data(auth_data: bytes, rp_id: str) -> None:
    if len(auth_data) < 37:
        raise ApprovalsError("authenticatorData is shorter than 37 bytes")
    if auth_data[:32] != hashlib.sha256(rp_id.encode()).digest():
        raise ApprovalsError(f"rpIdHash is not SHA-256 of {rp_id!r}")
    flags = auth_data[32]
    if not flags & FLAG_USER_PRESENT or not flags & FLAG_USER_VERIFIED:
        raise ApprovalsError("the authenticator did not verify the user (UP and UV flags required)")


def _check_signature(cose: bytes, message: bytes, signature: bytes) -> None:
    key = _read_cbor_map(cose)
    kind = (key.get(1), key.get(3), key.get(-1))
    if kind not in ((_OKP, _EDDSA, _ED25519), (_EC2, _ES256, _P256)):
        raise ApprovalsError(f"COSE key type/alg/curve {kind} is not accepted (Ed25519 or ES256 only)")
    try:
        if kind[0] == _OKP:
            ed25519.Ed25519PublicKey.from_public_bytes(key[-2]).verify(signature, message)
        else:
            x, y = (int.from_bytes(key[label], "big") for label in (-2, -3))
            public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ApprovalsError("bad signature") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ApprovalsError(f"malformed COSE key: {exc!r}") from None


def _read_cbor_map(data: bytes) -> dict[int, Any]:
    """The one CBOR shape a COSE public key has: a map of small integer keys to integers or byte strings."""
    value, end = _cbor_item(data, 0)
    if not isinstance(value, dict) or end != len(data):
        raise ApprovalsError("COSE key is not a single CBOR map")
    return value


def _cbor_item(data: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(data):
        raise ApprovalsError("truncated CBOR")
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise ApprovalsError("truncated CBOR")
        arg, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
    else:
        raise ApprovalsError("indefinite-length CBOR is not used in COSE keys")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise ApprovalsError("truncated CBOR")
        raw = data[pos : pos + arg]
        return (raw if major == 2 else raw.decode("utf-8")), pos + arg
    if major == 5:
        out: dict[Any, Any] = {}
        for _ in range(arg):
            k, pos = _cbor_item(data, pos)
            out[k], pos = _cbor_item(data, pos)
        return out, pos
    raise ApprovalsError(f"CBOR major type {major} is not used in COSE keys")
