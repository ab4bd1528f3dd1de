"""``docval process PATH… --wait`` on a machine where nothing runs: no appliance, no Prefect server.

The configured Prefect URL points at a port nobody listens on. The command
must start what it needs (a temporary server with its home under the data
directory), process real sample PDFs into outbox records of DESIGN.md's result
shape, stop the server again, and leave the given files where they were
unless ``--move`` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from flowcheck import docval, sample_folder, shared_paths

from docval.settings import Settings
from flows.env import free_port
from flows.standalone import progress

RESULT_KEYS = {"doc", "source", "kind", "state", "fields", "findings", "decision", "ledger", "cost"}


@pytest.fixture
def nothing_running(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose Prefect URL answers nowhere (the session's test server is not used)."""
    monkeypatch.setenv("DOCVAL_FLOWS__PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    return settings


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("samples"))


def _servers_of(home: Path) -> list[int]:
    """Pids of live processes whose PREFECT_HOME is ``home`` (a server left behind would be one)."""
    marker = f"PREFECT_HOME={home}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return [pid for pid in pids if pid != os.getpid()]


def _snapshot(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_process_wait_stands_alone_and_leaves_the_inputs_where_they_are(
    nothing_running: Settings, samples: Path, tmp_path: Path
) -> None:
    settings = nothing_running
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("invoice-001.pdf", "invoice-003-bad-iban.pdf", "kyc-002.pdf"):
        shutil.copy(samples / name, batch / name)
    before = _snapshot(batch)

    run = docval("process", str(batch), "--wait")

    assert run.returncode == 0, run.stdout + run.stderr
    assert _snapshot(batch) == before, "the inputs were changed or moved without --move"
    records = {record["source"]: record for record in map(json.loads, map(Path.read_text, settings.outbox.iterdir()))}
    assert set(records) == set(before)
    for name, record in records.items():
        assert set(record) >= RESULT_KEYS and record["doc"] == before[name]
    assert records["invoice-003-bad-iban.pdf"]["state"] == "rejected"
    assert records["kyc-002.pdf"]["state"] == "awaiting_approval"
    assert "3 new documents" in run.stdout
    home = settings.data_dir / "prefect"
    assert (home / "prefect.db").exists(), "the temporary server's database is not under the data directory"
    assert _servers_of(home.resolve()) == [], "the temporary Prefect server was left running"
    assert not [path for path in settings.work_dir.iterdir() if path.name.startswith(".copies-")]
    assert shared_paths(settings.data_dir) == []


def test_a_server_that_does_not_start_claims_nothing(nothing_running: Settings, samples: Path, tmp_path: Path) -> None:
    """The models load while the temporary server starts; the files are claimed only once it answers."""
    settings = nothing_running
    home = settings.data_dir / "prefect"
    home.mkdir(parents=True, mode=0o700)
    (home / "prefect.db").write_bytes(b"not a database")  # the server's migrations fail, so it exits
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(samples / "invoice-015.pdf", batch / "invoice-015.pdf")

    run = docval("process", str(batch), "--wait", "--move")

    assert run.returncode == 2 and "Prefect server did not start" in run.stderr, run.stderr
    assert str(home / "server.log") in run.stderr.replace("\n", "")
    assert [path.name for path in batch.iterdir()] == ["invoice-015.pdf"], "a file was taken without being processed"
    assert list(settings.work_dir.iterdir()) == [] and list(settings.outbox.iterdir()) == []
    assert _servers_of(home.resolve()) == []


def test_a_long_batch_shows_progress_on_a_terminal_and_nowhere_else(tmp_path: Path) -> None:
    docs, finished = ["a", "b", "c"], set[str]()
    controller, terminal_end = os.openpty()
    terminal = open(terminal_end, "w")  # noqa: SIM115 - read from the controller before it closes
    with progress(docs, finished.__contains__, terminal, every=0.05):
        finished.add("a")
        time.sleep(1.0)
        finished.update(docs)
        time.sleep(1.0)
    lines = os.read(controller, 4096).decode().splitlines()
    terminal.close()
    os.close(controller)
    assert [line.split(" (")[0] for line in lines] == ["1 of 3 documents done", "3 of 3 documents done"], lines

    with (tmp_path / "cron.log").open("w") as piped, progress(docs, finished.__contains__, piped, every=0.05):
        time.sleep(0.2)
    assert (tmp_path / "cron.log").read_text() == ""


def test_process_moves_the_inputs_only_with_move(flow_settings: Settings, samples: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(samples / "invoice-015.pdf", batch / "invoice-015.pdf")
    run = docval("process", str(batch), "--wait", "--move")
    assert run.returncode == 0, run.stdout + run.stderr
    assert list(batch.iterdir()) == [], "--move left the file where it was"
    assert [json.loads(path.read_text())["source"] for path in flow_settings.outbox.iterdir()] == ["invoice-015.pdf"]


def test_process_names_what_to_do_when_a_path_is_wrong(nothing_running: Settings, tmp_path: Path) -> None:
    missing = docval("process", str(tmp_path / "nowhere.pdf"), "--wait")
    assert missing.returncode == 2 and "no such file or folder; give PDF files" in missing.stderr, missing.stderr
    queued = docval("process", str(tmp_path))
    assert queued.returncode == 2 and "docval up" in queued.stderr and "--wait" in queued.stderr, queued.stderr


@pytest.mark.slow  # ~30-60 s: two server starts and two fresh clients
def test_small_prefect_start_bench(load_benchmark, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/prefect_start_bench.py with one round, so it cannot rot."""
    bench = load_benchmark("prefect_start_bench")
    median = bench.main(["--rounds", "1"])
    assert all(0 < median[key] < 300 for key in ("first", "server", "flow", "ephemeral"))
    assert "ephemeral mode" in capsys.readouterr().out
