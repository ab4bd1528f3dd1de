"""The approval gate end to end on a real Prefect server: pause, signed resumes, refusals, two approvers, deadline.

The approval flow runs in a thread of the test process (a local flow call pauses
and polls like a served run); decisions arrive the way `docval approve` sends
them, through the Prefect API, and are judged by the run.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docval.domain import DocState, DocumentResult, Outcome
from docval.events import EntryKind
from docval.settings import Settings
from docval.store import DocumentStore
from flows.audit import Audit
from flows.claim import Claimed
from flows.pipeline import Context, DocWork, finish, outbox_path, record_claims
from flows.policy import PolicyDecision, load_policy
from flows.roles import sign_decision


def _waiting_document(settings: Settings, *, approvals: int, deadline_in: timedelta) -> str:
    """A document decided `needs_approval`, written through the pipeline's own final stage."""
    from docval.hashing import KeyedHasher

    doc = hashlib.sha256(f"{time.time_ns()}".encode()).hexdigest()
    store = DocumentStore(settings.store_db)
    ctx = Context(settings, Audit(settings), store, load_policy(settings.resolve(settings.flows.policy_file)), None)
    ctx.kit = type("Hashing", (), {"hasher": KeyedHasher.from_file(settings.keys_dir / "hmac.key")})()
    (settings.work_dir / f"{doc}.pdf").write_bytes(b"%PDF-1.4 test")
    record_claims(ctx, [Claimed(doc=doc, source="waiting.pdf", size=13)], maker="alice", duplicates=[])
    work = DocWork(doc=doc, source="waiting.pdf", seqs=[e.seq for e in ctx.audit.history(doc)])
    work.decision = PolicyDecision(
        outcome=Outcome.NEEDS_APPROVAL,
        rule="test",
        approvals_required=approvals,
        deadline=datetime.now(UTC) + deadline_in,
    )
    work.state = DocState.AWAITING_APPROVAL
    finish(ctx, [work])
    return doc


class Gate:
    """An approval run in a background thread, named like the served ones so `paused_run` finds it."""

    def __init__(self, doc: str) -> None:
        from flows.approval import await_approval
        from flows.runs import run_name

        self.doc = doc
        self.result: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(await_approval.with_options(flow_run_name=run_name(doc))(doc)),
            daemon=True,
        )
        self.thread.start()
        self.wait_paused()

    def wait_paused(self, timeout: float = 60) -> None:
        from flows.runs import paused_run

        deadline = time.monotonic() + timeout
        while paused_run(self.doc) is None:
            assert time.monotonic() < deadline, "approval run never paused"
            time.sleep(0.3)

    def finished(self, timeout: float = 30) -> str:
        self.thread.join(timeout)
        assert not self.thread.is_alive()
        return self.result[0]


def _send(settings: Settings, doc: str, user: str, decision: str = "approve"):
    from flows.decide import submit_and_wait

    signed = sign_decision(settings.keys_dir, doc=doc, user=user, decision=decision, reason_hash=None)
    return submit_and_wait(settings, doc, signed)


def _kinds(settings: Settings, doc: str) -> list[str]:
    return [entry.kind for entry in Audit(settings).history(doc)]


def test_refusals_keep_the_run_paused_then_two_distinct_approvers_publish(flow_settings: Settings) -> None:
    from flows.runs import resume_with_token

    doc = _waiting_document(flow_settings, approvals=2, deadline_in=timedelta(hours=1))
    gate = Gate(doc)
    assert not _send(flow_settings, doc, "alice").accepted  # the maker
    gate.wait_paused()
    assert not _send(flow_settings, doc, "dave").accepted  # pii_reader is no approver
    gate.wait_paused()
    resume_with_token(doc, "I am bob, trust me")  # what an unauthenticated UI resume looks like
    gate.wait_paused()
    assert _send(flow_settings, doc, "bob").accepted
    gate.wait_paused()
    assert not _send(flow_settings, doc, "bob").accepted  # the same person twice
    gate.wait_paused()
    assert _send(flow_settings, doc, "carol").accepted
    assert gate.finished() == DocState.PUBLISHED

    history = Audit(flow_settings).history(doc)
    refused = [e.data["refused_because"] for e in history if e.kind == EntryKind.APPROVAL_REFUSED]
    assert refused == ["MAKER_CANNOT_APPROVE", "ROLE_NOT_ALLOWED", "MALFORMED_TOKEN", "ALREADY_APPROVED_BY_USER"]
    granted = [(e.actor, e.data["role"]) for e in history if e.kind == EntryKind.APPROVAL_GRANTED]
    assert granted == [("bob", "reviewer"), ("carol", "senior_reviewer")]
    assert _kinds(flow_settings, doc).count(EntryKind.PUBLISHED) == 1
    result = DocumentResult.model_validate_json(outbox_path(flow_settings, doc).read_text())
    assert result.state is DocState.PUBLISHED
    assert [a.user for a in result.decision.approvers] == ["bob", "carol"]
    final = next(e for e in history if e.kind == EntryKind.PUBLISHED)
    assert final.data["result_sha256"] == hashlib.sha256(outbox_path(flow_settings, doc).read_bytes()).hexdigest()
    assert (flow_settings.archive_dir / f"{doc}.pdf").exists()
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.PUBLISHED


def test_one_signed_rejection_rejects(flow_settings: Settings) -> None:
    doc = _waiting_document(flow_settings, approvals=2, deadline_in=timedelta(hours=1))
    gate = Gate(doc)
    assert _send(flow_settings, doc, "bob", "reject").accepted
    assert gate.finished() == DocState.REJECTED
    assert json.loads(outbox_path(flow_settings, doc).read_text())["state"] == "rejected"
    assert EntryKind.PUBLISHED not in _kinds(flow_settings, doc)


def test_missed_deadline_escalates_never_approves(flow_settings: Settings, tmp_path: Path) -> None:
    from flows.approval import gate_context

    notified = tmp_path / "notified.txt"
    policy_path = flow_settings.resolve(flow_settings.flows.policy_file)
    hook = f'escalation_command: ["sh", "-c", "echo $DOCVAL_DOC >> {notified}"]'
    text = policy_path.read_text().replace("escalation_command: []", hook)
    policy_path.write_text(text)
    gate_context.cache_clear()
    doc = _waiting_document(flow_settings, approvals=1, deadline_in=timedelta(seconds=2))
    gate = Gate(doc)
    deadline = time.monotonic() + 40
    while EntryKind.APPROVAL_ESCALATED not in _kinds(flow_settings, doc):
        assert time.monotonic() < deadline, "deadline did not escalate"
        time.sleep(0.5)
    gate.wait_paused()
    assert gate.thread.is_alive()  # still waiting: a missed deadline never publishes
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.AWAITING_APPROVAL
    assert notified.read_text().split() == [doc]
    verdict = _send(flow_settings, doc, "bob")  # reviewer queue is closed now
    assert not verdict.accepted and "ROLE_NOT_ALLOWED" in verdict.message
    gate.wait_paused()
    assert _send(flow_settings, doc, "carol").accepted
    assert gate.finished() == DocState.PUBLISHED
    assert _kinds(flow_settings, doc).count(EntryKind.APPROVAL_ESCALATED) == 1


@pytest.fixture(autouse=True)
def _short_token_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.approval

    monkeypatch.setattr(flows.approval, "RESUME_POLL_SECONDS", 1)
