"""One verifier for both kinds of signer, dispatching on ``kind``.

A person's enrolled key is ``{"kind": "ssh-ed25519", "public_key": "<OpenSSH line>"}`` or
``{"kind": "webauthn", "credential_id", "cose_public_key", "rp_id", "origin"}``; a signature is
``{"kind": "sshsig", "signature": "<armored SSHSIG>"}`` or ``{"kind": "webauthn", "credential_id",
"authenticator_data", "client_data_json", "signature"}`` (base64url, exactly the bytes the authenticator
returned; its challenge is base64url(SHA-256(statement))). Both land in ledger entries unchanged, so an
auditor re-checks them offline.
"""

from __future__ import annotations

from typing import Any

from approvals.errors import ApprovalsError
from approvals.sshsig import parse_public_key, verify_sshsig

__all__ = ["check_key", "verify_signature"]

_PAIRS = {"ssh-ed25519": "sshsig", "webauthn": "webauthn"}


def check_key(key: dict[str, Any]) -> None:
    """Refuse a key docval could never verify, at enrolment rather than at the first decision."""
    kind = key.get("kind")
    if kind == "ssh-ed25519":
        parse_public_key(str(key.get("public_key", "")))
    elif kind == "webauthn":
        missing = {"credential_id", "cose_public_key", "rp_id", "origin"} - key.keys()
        if missing:
            raise ApprovalsError(f"webauthn key lacks {', '.join(sorted(missing))}")
    else:
        raise ApprovalsError(f"unknown key kind {kind!r}: expected ssh-ed25519 or webauthn")


def verify_signature(key: dict[str, Any], statement: bytes, evidence: dict[str, Any]) -> None:
    """Raise ``ApprovalsError`` unless ``evidence`` is a valid signature over ``statement`` by ``key``."""
    kind = key.get("kind")
    if _PAIRS.get(str(kind)) != evidence.get("kind"):
        raise ApprovalsError(f"a {evidence.get('kind')!r} signature cannot come from a {kind!r} key")
    if kind == "ssh-ed25519":
        verify_sshsig(str(key["public_key"]), statement, str(evidence.get("signature", "")))
        return
    try:
        from approvals.passkey import verify_webauthn
    except ImportError:
        raise ApprovalsError("passkey signatures need approvals.passkey (the reviewer workbench)") from None
    verify_webauthn(key, statement, evidence)
