"""Approvals end to end on a real Prefect server: signed decisions recorded at once, publishing as a flow run.

Documents wait as ledger entries only. Decisions go through what `docval approve|reject` runs
(``flows.approvals.decide``) with the demo people's real OpenSSH keys, kept outside the data directory;
publishing and deadlines run as the real Prefect flows.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flowcheck import waiting_document

from docval.domain import DocState, DocumentResult
from docval.events import EntryKind
from docval.settings import Settings
from docval.store import DocumentStore
from flows.approvals.applied import sign_policy
from flows.approvals.decide import decide
from flows.approvals.enrol import demo_keys_dir
from flows.audit import Audit
from flows.outbox import outbox_path


def _decide(settings: Settings, doc: str, person: str, decision: str = "approve"):
    return decide(settings, doc, demo_keys_dir(settings) / person, decision, f"{person} checked the order")


def _kinds(settings: Settings, doc: str) -> list[str]:
    return [entry.kind for entry in Audit(settings).history(doc)]


def test_refusals_are_ledgered_then_two_distinct_approvers_publish(flow_settings: Settings) -> None:
    from flows.approvals.publish import publish_decision

    doc = waiting_document(flow_settings, approvals=2, deadline_in=timedelta(hours=1))
    assert "submitted this document" in _decide(flow_settings, doc, "alice").message  # the maker
    assert "does not hold the role" in _decide(flow_settings, doc, "dave").message  # pii_reader is no approver
    assert _decide(flow_settings, doc, "bob").recorded.accepted
    assert "already decided" in _decide(flow_settings, doc, "bob").message  # the same person twice
    assert publish_decision(doc) == "waiting"  # one approval of two: nothing to publish
    last = _decide(flow_settings, doc, "carol")
    assert last.recorded.accepted and last.recorded.state.outcome == "publish"
    assert publish_decision(doc) == DocState.PUBLISHED.value
    assert publish_decision(doc) == DocState.PUBLISHED.value  # a second run publishes nothing twice

    history = Audit(flow_settings).history(doc)
    refused = [e.data["refused_because"] for e in history if e.kind == EntryKind.APPROVAL_REFUSED]
    assert len(refused) == 3
    granted = [(e.actor, e.data["role"]) for e in history if e.kind == EntryKind.APPROVAL_GRANTED]
    assert granted == [("bob", "reviewer"), ("carol", "senior_reviewer")]
    assert _kinds(flow_settings, doc).count(EntryKind.PUBLISHED) == 1
    result = DocumentResult.model_validate_json(outbox_path(flow_settings, doc).read_text())
    assert result.state is DocState.PUBLISHED
    assert [a.user for a in result.decision.approvers] == ["bob", "carol"] and result.decision.rejections == []
    assert result.decision.rule == "test"
    final = next(e for e in history if e.kind == EntryKind.PUBLISHED)
    assert final.data["result_sha256"] == hashlib.sha256(outbox_path(flow_settings, doc).read_bytes()).hexdigest()
    assert (flow_settings.archive_dir / f"{doc}.pdf").exists()
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.PUBLISHED


def test_the_signer_is_shown_the_statement_the_ledger_holds(flow_settings: Settings) -> None:
    """The reason is masked before it is signed (by the appliance when one runs): the signer sees what was signed."""
    doc = waiting_document(flow_settings, approvals=2, deadline_in=timedelta(hours=1))
    reason = "called jane.roe@example.com, who confirmed the order"
    decided = decide(flow_settings, doc, demo_keys_dir(flow_settings) / "bob", "approve", reason)
    assert decided.recorded.accepted and decided.signed is not None
    assert "jane.roe@example.com" not in decided.signed
    shown = json.loads(decided.signed)
    assert shown["decision"] == "approve" and shown["signer"] == "bob" and "who confirmed the order" in shown["reason"]
    granted = next(e for e in Audit(flow_settings).history(doc) if e.kind == EntryKind.APPROVAL_GRANTED)
    assert granted.data["statement"] == shown


def test_one_signed_rejection_rejects_and_is_not_an_approval(flow_settings: Settings) -> None:
    from flows.approvals.publish import publish_decision

    doc = waiting_document(flow_settings, approvals=2, deadline_in=timedelta(hours=1))
    assert _decide(flow_settings, doc, "bob", "reject").recorded.state.outcome == "reject"
    assert publish_decision(doc) == DocState.REJECTED.value
    outbox = json.loads(outbox_path(flow_settings, doc).read_text())
    assert outbox["state"] == "rejected" and outbox["decision"]["approvers"] == []
    assert [r["user"] for r in outbox["decision"]["rejections"]] == ["bob"]
    assert EntryKind.PUBLISHED not in _kinds(flow_settings, doc)


def test_missed_deadline_escalates_never_approves(flow_settings: Settings, tmp_path: Path) -> None:
    from flows.approvals.deadlines import approval_deadlines

    notified = tmp_path / "notified.txt"
    policy_path = flow_settings.resolve(flow_settings.flows.policy_file)
    hook = f'escalation_command: ["sh", "-c", "echo $DOCVAL_DOC >> {notified}"]'
    policy_path.write_text(policy_path.read_text().replace("escalation_command: []", hook))
    sign_policy(flow_settings, [demo_keys_dir(flow_settings) / "erin"])  # unsigned, it would not be run
    doc = waiting_document(flow_settings, approvals=1, deadline_in=timedelta(seconds=1))
    time.sleep(1.2)
    assert approval_deadlines.fn() == 1
    assert approval_deadlines.fn() == 0  # escalated once only
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.AWAITING_APPROVAL
    assert notified.read_text().split() == [doc]
    assert "senior_reviewer" in _decide(flow_settings, doc, "bob").message  # the reviewer queue is closed
    assert _decide(flow_settings, doc, "carol").recorded.state.outcome == "publish"
    assert _kinds(flow_settings, doc).count(EntryKind.APPROVAL_ESCALATED) == 1


def test_a_decided_document_whose_publish_run_never_ran_is_not_stranded(flow_settings: Settings) -> None:
    """The publish run cancelled in the UI or killed: the next sweep (start-up, deadline run) publishes."""
    from flows.approvals.publish import sweep

    doc = waiting_document(flow_settings, approvals=1, deadline_in=timedelta(hours=1))
    assert _decide(flow_settings, doc, "bob").recorded.state.outcome == "publish"
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.AWAITING_APPROVAL
    assert sweep(flow_settings) == 1
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.PUBLISHED
    assert sweep(flow_settings) == 0


@pytest.mark.parametrize("shard", [None, "w1"])
def test_the_workbench_publisher_runs_the_publish_flow_here_under_its_deployment(
    flow_settings: Settings, shard: str | None
) -> None:
    """`docval up` hands the workbench this publisher: a run of publish-decision/publish, in the appliance.

    With ``w1``, the document's history is in a cluster worker's shard: the publisher finds it there.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from docval.shards import shard_settings
    from flows.approvals.publish import publish_decision
    from flows.reviewing import publisher
    from ledger import init_keys

    home = flow_settings
    if shard is not None:  # a cluster worker's own signed ledger in the shared data directory
        home = shard_settings(flow_settings, shard)
        init_keys(home.ledger_keys_dir, home.ledger.key_name)
    doc = waiting_document(home, approvals=1, deadline_in=timedelta(hours=1))
    assert _decide(flow_settings, doc, "bob").recorded.state.outcome == "publish"
    deployment = publish_decision.to_deployment(name="publish").apply()
    try:
        publisher(flow_settings)(doc)  # returns at once: the run goes on in a thread
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while True:
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment]))
                )
                if runs and runs[0].state.is_final():
                    break
                assert time.monotonic() < deadline, "the publish run did not finish"
                time.sleep(0.2)
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
    assert [run.name for run in runs] == [f"publish-{doc[:16]}"] and runs[0].state.is_completed()
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.PUBLISHED
    assert DocumentResult.model_validate_json(outbox_path(flow_settings, doc).read_text()).state is DocState.PUBLISHED


def _drop(folder: Path, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "invoice.pdf"
    path.write_bytes(b"%PDF-1.4 " + content)
    return path


def _maker_shown(settings: Settings, doc: str) -> tuple[str | None, str | None]:
    """The maker as the outbox record and `docval pending --json` show it."""
    from flows.approvals.pending import pending_rows

    [row] = [row for row in pending_rows(settings) if row["doc"] == doc]
    return DocumentResult.model_validate_json(outbox_path(settings, doc).read_text()).maker, row["maker"]


def test_a_file_in_bobs_inbox_folder_cannot_be_approved_by_bob(flow_settings: Settings) -> None:
    dropped = _drop(flow_settings.inbox / "bob", b"bob's own")
    doc = waiting_document(flow_settings, approvals=1, deadline_in=timedelta(hours=1), dropped=dropped)
    assert Audit(flow_settings).history(doc)[0].actor == "bob"  # the doc.claimed entry the report reads
    assert _maker_shown(flow_settings, doc) == ("bob", "bob")
    assert "submitted this document" in _decide(flow_settings, doc, "bob").message
    assert _decide(flow_settings, doc, "carol").recorded.accepted


def test_a_file_owned_by_an_os_account_mapped_to_carol_cannot_be_approved_by_carol(flow_settings: Settings) -> None:
    import getpass

    settings = flow_settings
    policy_path = settings.resolve(settings.flows.policy_file)
    mapping = f"os_makers: {{{getpass.getuser()}: carol}}"
    policy_path.write_text(policy_path.read_text().replace("os_makers: {}", mapping))
    sign_policy(settings, [demo_keys_dir(settings) / "erin"])  # the mapping counts once an admin signed it
    dropped = _drop(settings.inbox, b"carol's own")  # owned by the account running the test
    doc = waiting_document(settings, approvals=1, deadline_in=timedelta(hours=1), dropped=dropped)
    assert _maker_shown(settings, doc) == ("carol", "carol")
    assert "submitted this document" in _decide(settings, doc, "carol").message
    assert _decide(settings, doc, "bob").recorded.accepted


def test_a_file_nobody_can_be_named_for_shows_an_unknown_maker(flow_settings: Settings) -> None:
    """No per-person folder, no mapped owner (an unenrolled folder name counts for nothing)."""
    dropped = _drop(flow_settings.inbox / "mallory", b"whose?")
    doc = waiting_document(flow_settings, approvals=1, deadline_in=timedelta(hours=1), dropped=dropped)
    assert Audit(flow_settings).history(doc)[0].actor == "(unknown)"
    assert _maker_shown(flow_settings, doc) == (None, None)
