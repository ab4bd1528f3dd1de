"""`docval approve` handing work to the running appliance (masking, publishing), else doing it itself.

The real command runs as a subprocess (no Prefect import in it); the appliance's side is what `docval up`
serves (``flows.reviewing.served_workbench``: the workbench, its PII engine, the publisher and the hand-off
socket), against a real Prefect server with the real publish deployment registered. A publish hand-off
carries a document id only, so it cannot publish a document the ledger does not say is decided.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from flowcheck import docval, wait_for, waiting_document

from docval.domain import DocState
from docval.events import EntryKind
from docval.settings import Settings, load_settings
from docval.store import DocumentStore
from flows.approvals.enrol import demo_keys_dir
from flows.approvals.trigger import start_publish
from flows.audit import Audit
from flows.env import free_port
from flows.errors import FlowError
from flows.handoff import address, hand_off, listening, masked_by_appliance
from flows.reviewing import served_workbench
from flows.server import server_healthy


@pytest.fixture
def appliance(flow_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The reviewer side of a running `docval up`, on a free workbench port."""
    monkeypatch.setenv("DOCVAL_WORKBENCH__PORT", str(free_port()))
    settings = load_settings()
    with served_workbench(settings):
        yield settings


@pytest.fixture
def deployment(flow_settings: Settings) -> Iterator[UUID]:
    """``publish-decision/publish`` registered on the session's server, as ``docval up``'s serving process does."""
    from prefect.client.orchestration import get_client

    from flows.approvals.publish import publish_decision

    deployment_id = publish_decision.to_deployment(name="publish").apply()
    yield deployment_id
    with get_client(sync_client=True) as client:
        client.delete_deployment(deployment_id)


def _run(run_id: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id))


def _approve(settings: Settings, doc: str, reason: str = "checked") -> str:
    """`docval approve` by bob, as a person runs it; the id of the run it says is publishing."""
    done = docval("approve", doc[:16], "--key", str(demo_keys_dir(settings) / "bob"), "--reason", reason)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "approve by bob recorded" in done.stdout
    return done.stdout.split("publishing: flow run ")[1].split()[0]


def test_approve_hands_the_document_to_the_running_appliance_which_publishes_it_in_process(
    deployment: UUID, appliance: Settings
) -> None:
    doc = waiting_document(appliance, approvals=1, deadline_in=timedelta(hours=1))
    run_id = _approve(appliance, doc, "checked with John Smith on +49 30 1234567")
    wait_for(lambda: _run(run_id).state.is_final(), "the appliance's publish run did not finish", 60)
    run = _run(run_id)
    assert run.deployment_id == deployment and run.name == f"publish-{doc[:16]}"
    assert run.state.is_completed()  # a served run would still be Scheduled: nothing serves it in this test
    assert run.parameters == {"doc_id": doc, "shard": None}
    assert DocumentStore(appliance.store_db).get(doc).state is DocState.PUBLISHED
    [granted] = [e for e in Audit(appliance).history(doc) if e.kind == EntryKind.APPROVAL_GRANTED]
    reason = granted.data["statement"]["reason"]  # masked by the appliance, as signed and ledgered
    assert "John Smith" not in reason and "1234567" not in reason and reason.startswith("checked with <")


def test_without_an_appliance_approve_starts_a_served_run_over_the_rest_api(
    flow_settings: Settings, deployment: UUID
) -> None:
    doc = waiting_document(flow_settings, approvals=1, deadline_in=timedelta(hours=1))
    run = _run(_approve(flow_settings, doc))
    assert run.deployment_id == deployment and run.state.is_scheduled()  # for the serving process to pick up
    assert run.parameters == {"doc_id": doc, "shard": None} and "approval" in run.tags
    assert DocumentStore(flow_settings.store_db).get(doc).state is DocState.AWAITING_APPROVAL


def test_a_hand_off_publishes_only_what_the_ledger_says_is_decided(deployment: UUID, appliance: Settings) -> None:
    """Anyone able to connect can name a waiting document, or send anything else: nothing is published."""
    doc = waiting_document(appliance, approvals=1, deadline_in=timedelta(hours=1))
    masked = masked_by_appliance(appliance, doc, "checked with John Smith")  # the workbench's engine, warm
    assert masked is not None and masked.startswith("checked with <") and "Smith" not in masked
    run_id = hand_off(appliance, doc)  # nobody decided it
    assert run_id is not None
    wait_for(lambda: _run(run_id).state.is_final(), "the publish run did not finish", 60)
    publish = {"action": "publish", "doc": doc}
    for garbage in (
        b"../../etc/passwd",
        json.dumps(publish | {"doc": "../" + doc[3:]}).encode(),
        json.dumps(publish | {"shard": "w1"}).encode(),  # the appliance looks the home up itself
        b"x" * 100_000,
    ):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(address(appliance))
            sock.sendall(garbage + b"\n")
            assert "error" in json.loads(sock.recv(4096))
    assert _run(run_id).state.is_completed()
    assert DocumentStore(appliance.store_db).get(doc).state is DocState.AWAITING_APPROVAL


def test_no_appliance_and_no_server_leaves_the_decision_for_the_next_start(
    flow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    settings = load_settings()
    assert hand_off(settings, "0" * 64) is None  # nothing listens
    assert masked_by_appliance(settings, "0" * 64, "checked") is None
    with pytest.raises(FlowError, match="the next `docval up` does it"):
        start_publish(settings, "0" * 64, None)


def test_the_served_run_is_started_with_the_servers_login(
    flow_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A Prefect server other machines reach requires a login (docs/security.md); the REST calls carry it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path), "PREFECT_SERVER_API_AUTH_STRING": "admin:s3cret"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: server_healthy(url), "the Prefect server did not start", 90)
        monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", url)
        settings = load_settings()
        with pytest.raises(FlowError, match="could not start \\(HTTPStatusError\\)"):  # 401 without the login
            start_publish(settings, "0" * 64, None)
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:s3cret")
        with pytest.raises(FlowError, match="no served publish deployment"):  # in, and the deployment looked up
            start_publish(settings, "0" * 64, None)
    finally:
        server.terminate()
        server.wait(30)


def test_one_appliance_answers_per_data_directory_and_nothing_after_it_stops(settings: Settings) -> None:
    doc = "a" * 64
    with listening(settings, lambda _: "first", lambda _, reason: reason):
        with listening(settings, lambda _: "second", lambda _, reason: reason):  # a second `docval up`, same data
            assert hand_off(settings, doc) == "first"
        assert hand_off(settings, doc) == "first"  # the second one's stop closed nothing of the first's
    assert hand_off(settings, doc) is None
    assert "handoff" not in [thread.name for thread in threading.enumerate()]  # the listener thread ended


SQUATTER = """
import os, socket, sys
address = bytes.fromhex(sys.argv[1])
os.setgid(65534); os.setuid(65534)  # another OS account: nobody
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
    sock.bind(address); sock.listen(1); print("ready", flush=True)
    conn, _ = sock.accept(); conn.settimeout(5)
    try:
        got = conn.recv(65536)
    except OSError:
        got = b""
    print(got.hex(), flush=True)
"""


@pytest.mark.skipif(os.getuid() != 0, reason="binding as another account needs root (CI runs as root)")
def test_a_socket_squatted_by_another_account_gets_nothing(settings: Settings) -> None:
    """An abstract name has no file permissions: a local account that binds it first must receive no reason.

    The command then masks the reason itself (``masked_by_appliance`` answers None) and sends nothing."""
    squatter = subprocess.Popen(
        [sys.executable, "-c", SQUATTER, address(settings).hex()], stdout=subprocess.PIPE, text=True
    )
    try:
        assert squatter.stdout is not None and squatter.stdout.readline().strip() == "ready"
        assert masked_by_appliance(settings, "a" * 64, "called jane.roe@example.com") is None
        received, _ = squatter.communicate(timeout=30)
    finally:
        squatter.kill()
    assert bytes.fromhex(received.strip()) == b""  # not the reason, not even the document id
