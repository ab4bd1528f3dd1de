"""The approval gate: real Ed25519 keys from a generated roles.yaml, every refusal reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.gate import ApprovalRequest, check_attempt
from flows.roles import Role, ensure_demo_roles, load_roles, parse_token, sign_decision

DOC = "ab" * 32
OTHER_DOC = "cd" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("roles")
    assert ensure_demo_roles(root / "roles.yaml", root / "keys")
    assert not ensure_demo_roles(root / "roles.yaml", root / "keys")  # second start keeps the keys
    return root / "roles.yaml", root / "keys"


def _token(keys: Path, user: str, *, doc: str = DOC, decision: str = "approve", at: datetime = NOW) -> str:
    return sign_decision(keys, doc=doc, user=user, decision=decision, reason_hash=None, now=at).token()


def _check(installation, token: str, *, senior_only: bool = False, prior: frozenset[str] = frozenset()):
    roles_path, _ = installation
    request = ApprovalRequest(doc=DOC, maker="alice", approvals_required=2, senior_only=senior_only)
    return check_attempt(token, request, load_roles(roles_path), prior_approvers=set(prior), now=NOW)


def test_reviewer_with_valid_signature_is_accepted(installation) -> None:
    verdict = _check(installation, _token(installation[1], "bob"))
    assert verdict.accepted and verdict.role is Role.REVIEWER
    assert verdict.decision.statement.user == "bob"


def test_token_round_trips_and_private_key_is_private(installation) -> None:
    token = _token(installation[1], "carol", decision="reject")
    assert parse_token(token).statement.decision == "reject"
    assert (installation[1] / "users" / "carol.ed25519").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("user", "kwargs", "reason"),
    [
        ("alice", {}, "MAKER_CANNOT_APPROVE"),
        ("dave", {}, "ROLE_NOT_ALLOWED"),
        ("erin", {}, "ROLE_NOT_ALLOWED"),
        ("bob", {"doc": OTHER_DOC}, "WRONG_DOCUMENT"),
        ("bob", {"at": NOW - timedelta(days=30)}, "STALE_TOKEN"),
        ("bob", {"at": NOW + timedelta(hours=1)}, "STALE_TOKEN"),
    ],
)
def test_refusals(installation, user: str, kwargs: dict, reason: str) -> None:
    verdict = _check(installation, _token(installation[1], user, **kwargs))
    assert not verdict.accepted and verdict.refused_because == reason and verdict.role is None


def test_same_user_cannot_be_both_approvers(installation) -> None:
    verdict = _check(installation, _token(installation[1], "bob"), prior=frozenset({"bob"}))
    assert verdict.refused_because == "ALREADY_APPROVED_BY_USER"


def test_escalated_request_needs_senior_reviewer(installation) -> None:
    assert _check(installation, _token(installation[1], "bob"), senior_only=True).refused_because == "ROLE_NOT_ALLOWED"
    verdict = _check(installation, _token(installation[1], "carol"), senior_only=True)
    assert verdict.accepted and verdict.role is Role.SENIOR_REVIEWER


def test_forged_and_garbage_tokens_are_refused(installation) -> None:
    signed = sign_decision(installation[1], doc=DOC, user="bob", decision="reject", reason_hash=None, now=NOW)
    forged = signed.model_copy(update={"statement": signed.statement.model_copy(update={"decision": "approve"})})
    assert _check(installation, forged.token()).refused_because == "BAD_SIGNATURE"
    impostor = signed.model_copy(update={"statement": signed.statement.model_copy(update={"user": "carol"})})
    assert _check(installation, impostor.token()).refused_because == "BAD_SIGNATURE"
    assert _check(installation, "approve please").refused_because == "MALFORMED_TOKEN"
    assert _check(installation, "").refused_because == "MALFORMED_TOKEN"


def test_bad_roles_file_names_the_line(tmp_path: Path) -> None:
    from docval.errors import ConfigError

    path = tmp_path / "roles.yaml"
    path.write_text("users:\n  - name: bob\n    roles: [approver]\n    public_key: AAAA\n")
    with pytest.raises(ConfigError) as caught:
        load_roles(path)
    assert caught.value.line == 3
