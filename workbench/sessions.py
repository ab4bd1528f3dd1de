"""Signed-in sessions and one-time WebAuthn challenges, held in the server's memory only.

A session id is a random cookie value; nothing about the person is in the
cookie. Each session carries its own CSRF token, which every form and fetch
sends back. A session idle longer than the configured timeout is gone, and a
restart signs everybody out, which is the safe direction. Challenges are
popped when used, so an assertion can be checked at most once.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Challenge", "Session", "SessionStore"]

CHALLENGE_SECONDS = 300.0
ORIGINAL_ROLES = frozenset({"pii_reader", "senior_reviewer", "admin"})
"""Roles shown page images of unmasked originals; everybody else sees masked values only."""


@dataclass
class Session:
    sid: str
    person: str
    roles: tuple[str, ...]
    credential_id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    last_seen: float = field(default_factory=time.monotonic)
    viewed: set[str] = field(default_factory=set)  # documents whose original view was ledgered

    def may_see_originals(self) -> bool:
        return bool(ORIGINAL_ROLES & set(self.roles))


@dataclass(frozen=True)
class Challenge:
    """What a pending WebAuthn ceremony is about: the challenge bytes and the context they were issued for."""

    challenge: bytes
    purpose: str
    context: dict[str, str]
    issued: float


class SessionStore:
    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._challenges: dict[str, Challenge] = {}
        self._lock = threading.Lock()

    def open(self, person: str, roles: tuple[str, ...], credential_id: str) -> Session:
        session = Session(secrets.token_urlsafe(32), person, roles, credential_id)
        with self._lock:
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session for ``sid`` (touching it), or None when unknown or idle too long."""
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[sid]
                return None
            session.last_seen = now
            return session

    def close(self, sid: str) -> Session | None:
        with self._lock:
            return self._sessions.pop(sid, None)

    def issue(self, challenge: bytes, purpose: str, context: dict[str, str]) -> str:
        """Remember a challenge under a fresh handle the page sends back with the assertion."""
        handle = secrets.token_urlsafe(16)
        with self._lock:
            self._challenges[handle] = Challenge(challenge, purpose, context, time.monotonic())
        return handle

    def redeem(self, handle: str, purpose: str) -> Challenge | None:
        """The pending challenge for ``handle`` if it exists, is for ``purpose`` and is fresh; used up either way."""
        with self._lock:
            pending = self._challenges.pop(handle, None)
        if pending is None or pending.purpose != purpose:
            return None
        if time.monotonic() - pending.issued > CHALLENGE_SECONDS:
            return None
        return pending
