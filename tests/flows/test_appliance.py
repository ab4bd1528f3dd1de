"""`docval up` as a new user runs it: demo identities, sample inbox, signed approvals from the CLI, stop, resume.

Runs the real command in a subprocess against the session's Prefect server
(`docval up` reuses a server that already answers and starts one otherwise).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from docval.domain import DocState
from docval.settings import Settings
from docval.store import DocumentStore
from flows.approvals.enrol import demo_keys_dir
from flows.env import free_port


class Appliance:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DOCVAL_WORKBENCH__PORT": str(free_port())}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docval", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, fragment: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.seen[-30:])
                continue
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"{fragment!r} not printed:\n" + "\n".join(self.seen[-30:]))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.wait_for("docval stopped cleanly", timeout=90)
        return self.process.wait(60)


def _docval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *args], capture_output=True, text=True, timeout=180)


@pytest.mark.slow  # ~2-3 min: two appliance starts, CLI round trips, publish runs
def test_up_shows_pending_documents_and_approve_releases_one_across_a_restart(flow_settings: Settings) -> None:
    first = Appliance()
    keys = demo_keys_dir(flow_settings)  # enrolled by `prepare` (the flow_settings fixture), as at a first start
    assert not str(keys).startswith(str(flow_settings.data_dir.resolve())), "people's keys never in the data dir"
    assert first.wait_for("drop files into: ").endswith(str(flow_settings.inbox.resolve()))
    assert first.wait_for("results appear in: ").endswith(str(flow_settings.outbox.resolve()))
    workbench = first.wait_for("reviewer workbench: http://localhost:").split(": ", 1)[1]
    with urllib.request.urlopen(f"{workbench}/signin", timeout=10) as page:  # served by `docval up` itself
        assert page.status == 200
    assert first.wait_for("demo invitation: ").split()[2].startswith(f"{workbench}/enrol/")
    first.wait_for("Prefect UI: http://127.0.0.1:")
    first.wait_for("waiting for people: ")
    first.wait_for("auditor report: ")
    command = first.wait_for("try:  ")  # the hint names the docval this machine can run: on PATH or by path
    prefix = command.split(" approve ")[1].split()[0]
    assert f"--key {keys}/bob" in command
    people = _docval("users", "list")
    assert people.returncode == 0 and people.stdout.count("(demo)") == 5, people.stdout

    pending = _docval("pending")
    assert pending.returncode == 0 and prefix in pending.stdout

    refused = _docval("approve", prefix, "--key", str(keys / "alice"), "--reason", "mine")  # the maker
    assert refused.returncode == 1 and "submitted this document" in refused.stdout, refused.stdout + refused.stderr
    approved = _docval("approve", prefix, "--key", str(keys / "bob"), "--reason", "checked against the order")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "approve by bob recorded" in approved.stdout
    assert first.stop() == 0

    store = DocumentStore(flow_settings.store_db)
    waiting = [r.doc for r in store.all() if r.state is DocState.AWAITING_APPROVAL]
    assert waiting, "the sample inbox leaves documents for people"
    second = Appliance()  # resumes: nothing to replace, no samples written again
    second.wait_for("Prefect UI: http://127.0.0.1:")
    rejected = _docval("reject", waiting[0][:12], "--key", str(keys / "carol"), "--reason", "wrong supplier")
    assert rejected.returncode == 0 and "publishing: flow run" in rejected.stdout, rejected.stdout + rejected.stderr
    deadline = time.monotonic() + 60
    while store.get(waiting[0]).state is not DocState.REJECTED:  # the served publish run
        assert time.monotonic() < deadline, "the rejection was not published"
        time.sleep(0.5)
    assert second.stop() == 0
    assert not any("sample inbox" in line for line in second.seen)
