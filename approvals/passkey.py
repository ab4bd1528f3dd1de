"""WebAuthn (passkey) decision signatures: the helpers the workbench needs, and their verification.

A decision signed in the workbench is a WebAuthn assertion whose challenge is
SHA-256 of the decision statement. The check itself lives once, in the bundled
``verify.py`` (``ledger.bundle_verify.verify_webauthn``), which needs only
``cryptography``; this module reuses it, so the appliance and an auditor's
offline check cannot disagree.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from approvals.errors import ApprovalsError
from ledger.bundle_verify import VerifyError
from ledger.bundle_verify import verify_webauthn as bundle_verify_webauthn

__all__ = ["b64url", "cose_fingerprint", "unb64url", "verify_webauthn"]


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
    try:
        bundle_verify_webauthn(key, statement, evidence)
    except (VerifyError, KeyError) as exc:
        raise ApprovalsError(str(exc) if isinstance(exc, VerifyError) else f"missing {exc} in the evidence") from None
