"""Sessions (idle timeout, one-time challenges) and invitations (one use, expiry, only hashes stored)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from docval.settings import Settings
from workbench.app import enrolment_store
from workbench.enrolment import Credential
from workbench.errors import WorkbenchError
from workbench.sessions import SessionStore


def test_a_session_ends_after_the_idle_timeout_and_at_sign_out() -> None:
    store = SessionStore(idle_seconds=2.0)  # wide margins: a loaded CI machine once slept 0.1 s past 0.2 s
    session = store.open("bob", ("reviewer",), "cred")
    assert store.get(session.sid) is session
    time.sleep(0.1)
    assert store.get(session.sid) is session  # a request within the timeout keeps it alive
    time.sleep(2.1)
    assert store.get(session.sid) is None
    other = store.open("bob", ("reviewer",), "cred")
    assert other.sid != session.sid and other.csrf != session.csrf
    store.close(other.sid)
    assert store.get(other.sid) is None and store.get(None) is None


def test_a_challenge_is_redeemed_once_and_only_for_its_purpose() -> None:
    store = SessionStore(idle_seconds=60)
    handle = store.issue(b"c" * 32, "decide", {"doc": "d"})
    assert store.redeem(handle, "signin") is None  # a decision challenge never serves a sign-in
    handle = store.issue(b"c" * 32, "decide", {"doc": "d"})
    pending = store.redeem(handle, "decide")
    assert pending is not None and pending.context == {"doc": "d"}
    assert store.redeem(handle, "decide") is None


def _credential() -> Credential:
    return Credential("cred-1", "", (), "pQECAyYgASFYIA", "localhost", "http://localhost:8600", 1)


def test_an_invitation_works_once_and_its_token_is_not_stored(settings: Settings) -> None:
    store = enrolment_store(settings)
    token = store.invite("bob", ["reviewer"], invited_by="erin", valid=timedelta(hours=1))
    assert store.invitation(token).roles == ("reviewer",)
    assert token.encode() not in store.path.read_bytes()
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    store.propose(token, _credential())
    with pytest.raises(WorkbenchError, match="used already"):
        store.invitation(token)
    registered = store.credential("cred-1")
    assert registered is not None and registered.person == "bob" and registered.roles == ("reviewer",)
    assert store.proposal("bob", registered.fingerprint).credential_id == "cred-1"
    with pytest.raises(WorkbenchError, match="no passkey with fingerprint"):
        store.proposal("bob", "0000:0000")


def test_an_expired_or_replaced_invitation_is_refused(settings: Settings) -> None:
    store = enrolment_store(settings)
    expired = store.invite("carol", ["reviewer"], invited_by="erin", valid=timedelta(seconds=-1))
    with pytest.raises(WorkbenchError, match="expired"):
        store.invitation(expired)
    first = store.invite("dave", ["reviewer"], invited_by="erin", valid=timedelta(hours=1))
    store.invite("dave", ["reviewer"], invited_by="erin", valid=timedelta(hours=1))
    with pytest.raises(WorkbenchError, match="unknown"):
        store.invitation(first)
