"""The ledger from the shell, as `make run` and operators use it (real subprocesses, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from docval.settings import Settings
from flows.approvals.enrol import demo_keys_dir
from ledger.bundle_verify import Checkpoint, VerifierKey, open_note, verify_tlog_proof


def docval(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docval", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )


DEMO = "\n".join(
    json.dumps(entry)
    for entry in [
        {"kind": "note", "doc": None, "actor": "cli-test", "data": {"message": "hello"}},
        {"kind": "doc.claimed", "doc": "demo-1", "actor": "cli-test", "data": {"source_hash": "ab", "size": 3}},
        {"kind": "doc.ingested", "doc": "demo-1", "actor": "cli-test", "data": {"pages": 1}},
    ]
)


def test_make_run_sequence_is_idempotent_and_verifies(settings: Settings, tmp_path: Path) -> None:
    init = docval("init")  # ledger key, the 5 demo people (seqs 0-4), the configuration in force (5-7)
    assert init.returncode == 0 and "demo identities" in init.stdout
    again = docval("keys", "init", "--if-missing")
    assert again.returncode == 0 and "ledger key exists" in again.stdout
    refused = docval("keys", "init")
    assert refused.returncode == 2 and "already exists" in refused.stderr

    appended = docval("ledger", "append", stdin=DEMO)
    assert appended.returncode == 0, appended.stderr
    assert appended.stdout.split() == ["8", "9", "10"]
    note = docval("ledger", "checkpoint").stdout
    key = VerifierKey.parse((settings.keys_dir / "ledger.vkey").read_text())
    assert Checkpoint.parse(open_note(note, key)).size == 11
    verified = docval("ledger", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("OK: 11 entries"), verified.stdout

    proof = docval("ledger", "prove", "--seq", "1")
    assert proof.returncode == 0
    export = tmp_path / "bundle"
    assert docval("ledger", "export", str(export)).returncode == 0
    second_line = (export / "entries.jsonl").read_bytes().splitlines()[1]
    assert verify_tlog_proof(proof.stdout, second_line, key).size == 11

    admin_key = demo_keys_dir(settings) / "erin"  # the demo admin: a rotation is signed by an admin
    rotated = docval("keys", "rotate", "--key", str(admin_key))
    assert rotated.returncode == 0 and "key rotated at seq 11" in rotated.stdout, rotated.stderr
    assert docval("ledger", "verify").returncode == 0


def test_bad_input_is_a_one_line_error_and_nothing_is_appended(settings: Settings) -> None:
    docval("keys", "init")
    bad = docval("ledger", "append", stdin='{"kind": "note", "doc": null, "actor": "x", "data": {}}\nnot json\n')
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: stdin line 2:")
    assert docval("ledger", "verify").stdout.startswith("OK: 0 entries")
    assert docval("ledger", "prove", "--seq", "0").returncode == 2
