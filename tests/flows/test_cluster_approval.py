"""Approvals in a cluster: decisions extend the deciding worker's shard, hold no run, survive a restart.

A real ``docval cluster up`` (PostgreSQL, Prefect server, served deployments,
two process workers). Sample documents are decided by whichever worker ran
them; those that need people wait as ledger entries only. ``docval approve`` /
``reject`` (signed with the demo people's own OpenSSH keys, checked against
the root's enrolment) are recorded in the shard that holds the document's
history, signed at once and anchored into the root; publishing follows as a
served flow run. A second ``cluster up`` needs no run replaced (~70 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flowcheck import drop_samples, wait_for

from docval.domain import DocState, DocumentResult
from docval.events import EntryKind
from docval.settings import Settings
from docval.shards import shard_settings
from docval.store import DocumentStore
from flows.approvals.enrol import demo_keys_dir
from flows.approvals.pending import pending_rows
from flows.env import free_port
from flows.outbox import outbox_path
from ledger import Ledger

SAMPLES = 6


@contextmanager
def _cluster(env: dict[str, str], *args: str) -> Iterator[list[str]]:
    """``docval cluster up`` with two workers; its output lines so far; SIGTERM and a clean exit on leaving."""
    command = [sys.executable, "-m", "docval", "cluster", "up", "--workers", "2", *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("Prefect UI" in line for line in lines) or process.poll() is not None, "no cluster", 180)
        yield lines
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(120)
        reader.join(10)
    assert process.returncode == 0, "".join(lines[-30:])


def _docval(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *args], env=env, capture_output=True, text=True, timeout=300)


def _state(settings: Settings, doc: str) -> DocState | None:
    record = DocumentStore(settings.store_db).get(doc)
    return record.state if record else None


def test_approvals_in_a_cluster_extend_the_deciding_shard(
    postgres_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = postgres_settings
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the demo people's keys: outside the data directory
    api_url = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ,
        "DOCVAL_FLOWS__PREFECT_API_URL": api_url,
        "DOCVAL_FLOWS__STABLE_SECONDS": "0.3",
        # Every 2 s, anchor runs piled up in the served process under load and queued the publish runs
        # behind them for minutes; 10 s still anchors well within the test's wait.
        "DOCVAL_FLOWS__ANCHOR_SECONDS": "10",
    }
    with _cluster(env) as lines:
        assert any("served deployments: publish, deadlines" in line for line in lines), lines
        docs = drop_samples(settings, tmp_path / "drop", SAMPLES)
        wait_for(lambda: all(_state(settings, doc) for doc in docs), "not every document was decided", 180)
        rows = pending_rows(settings)
        assert len(rows) >= 3, rows  # two to decide now, at least one left waiting for the restart
        assert {row["ledger"] for row in rows} <= {"w1", "w2"}, "histories live in the workers' shards"
        assert all(row["source"].startswith(("invoice-", "kyc-")) for row in rows), "the approver sees the file name"
        approved, rejected = rows[0]["doc"], rows[1]["doc"]

        keys = demo_keys_dir(settings)
        maker = _docval(env, "approve", approved[:12], "--key", str(keys / "alice"), "--reason", "mine")
        assert maker.returncode == 1, maker.stdout + maker.stderr  # alice holds no reviewer role
        approvers = ["bob", "carol"][: rows[0]["approvals_required"]]  # policy: one or two people
        for user in approvers:
            checker = _docval(env, "approve", approved[:12], "--key", str(keys / user), "--reason", "checked")
            assert checker.returncode == 0 and f"approve by {user}" in checker.stdout, checker.stdout + checker.stderr
        rejecter = _docval(env, "reject", rejected[:12], "--key", str(keys / "carol"), "--reason", "wrong supplier")
        assert rejecter.returncode == 0, rejecter.stdout + rejecter.stderr
        wait_for(lambda: _state(settings, approved) is DocState.PUBLISHED, "the approved document was not published")
        wait_for(lambda: _state(settings, rejected) is DocState.REJECTED, "the rejected document was not rejected")
        home = shard_settings(settings, rows[0]["ledger"])
        shard = Ledger.open(home)
        root = Ledger.open(settings)

        def anchored() -> bool:
            return any(
                entry.kind == EntryKind.ANCHOR_CHECKPOINT
                and (entry.data["shard"], entry.data["size"]) == (rows[0]["ledger"], shard.size())
                for entry in root.entries()
            )

        wait_for(anchored, "the served anchor flow did not fold the decision into the root", 60)

    kinds = [str(entry.kind) for entry in shard.entries_for_doc(approved)]
    gate = [EntryKind.APPROVAL_REFUSED, *[EntryKind.APPROVAL_GRANTED] * len(approvers), EntryKind.PUBLISHED]
    assert kinds[-len(gate) :] == gate, kinds
    assert kinds[0] == EntryKind.CLAIMED, "the whole history is in one shard"
    assert not root.entries_for_doc(approved), "nothing about the document went to the root"
    assert f"\n{shard.size()}\n" in shard.latest_checkpoint(), "the gate signed its entries at once"
    result = DocumentResult.model_validate_json(outbox_path(settings, approved).read_text(encoding="utf-8"))
    assert [approver.user for approver in result.decision.approvers] == approvers
    assert result.ledger.last_seq < shard.size()
    verify = _docval(env, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    with _cluster(env, "--exit-when-idle") as lines:
        pass
    assert len(pending_rows(settings)) == len(rows) - 2, "the others still wait, with no run to replace"
