"""Issue 15's insider with write access to ``var/``: each scenario is caught by ``docval ledger verify``.

The CLI's commands (in-process), a real witness over HTTP on 127.0.0.1, real DuckDB files, real keys, and the
exported verify.py as a subprocess. The attacks edit the files the way an operator
with root would; none of them needs the ledger's signing key except where the scenario says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from docval.settings import Settings, load_settings
from ledger import EntryDraft, Ledger, init_keys, merkle
from ledger.cli import register
from ledger.keys import anchor_path
from ledger.witness import serve

DECIDED = "doc.decided"


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def docval(*args: str) -> Ran:
    """The ledger's CLI commands, run in-process (a fresh `docval` app: startup costs seconds per process)."""
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def _decisions(count: int) -> list[EntryDraft]:
    return [EntryDraft(DECIDED, f"doc-{i}", "worker", {"outcome": "needs_approval"}) for i in range(count)]


def test_an_edited_outcome_in_the_unsigned_tail_fails_verify(settings: Settings) -> None:
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    ledger.append_many(_decisions(4))
    ledger.checkpoint()
    (last,) = ledger.append_many(_decisions(1))  # beyond the latest checkpoint: signed by nothing
    body = next(ledger.entries(last)).canonical
    forged = body.replace(b"needs_approval", b"auto_approve")
    leaf, signed_root = merkle.leaf_hash(forged), ledger.root(4)
    with duckdb.connect(str(settings.ledger_db)) as con:  # no key needed: nothing signed commits to it
        con.execute("UPDATE entries SET body = ? WHERE seq = ?", [forged, last])
        con.execute("UPDATE nodes SET hash = ? WHERE pos = ?", [leaf, merkle.node_position(0, last)])
        con.execute("UPDATE head SET last_leaf = ?, border = ?", [leaf, signed_root + leaf])
    verified = docval("ledger", "verify")
    assert verified.returncode == 1, verified.stdout
    assert "1 entries beyond the latest checkpoint are not signed" in verified.stdout
    allowed = docval("ledger", "verify", "--allow-unsigned-tail")
    assert allowed.returncode == 0 and "1 newer entries not yet signed" in allowed.stdout, allowed.stdout
    assert json.loads(next(Ledger.open(settings).entries(last)).canonical)["data"]["outcome"] == "auto_approve"


# ----------------------------------------------------------------------------- pinned keys and a witness


@pytest.fixture
def witnessed(settings: Settings, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A real `docval witness serve` on 127.0.0.1 that trusts this ledger, configured in docval.toml;
    yields the auditor's pinned files (log key, witness key) kept outside the data directory."""
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    pins = tmp_path / "auditor"
    pins.mkdir()
    (pins / "ledger.vkey").write_bytes(anchor_path(settings.ledger_keys_dir).read_bytes())
    created = docval("witness", "init", str(tmp_path / "w1"), "--name", "auditor.example/w1")
    assert created.returncode == 0, created.stderr
    (pins / "w1.vkey").write_text(created.stdout)  # its last line is the key
    added = docval(
        "witness", "add-log", str(tmp_path / "w1"), "--origin", settings.ledger.origin,
        "--vkey", str(pins / "ledger.vkey"),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    server = serve(tmp_path / "w1", "127.0.0.1", 0)  # what `docval witness serve` runs
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        key = created.stdout.strip().splitlines()[-1]
        url = f"http://127.0.0.1:{server.server_address[1]}"
        Path(os.environ["DOCVAL_CONFIG"]).write_text(f'[ledger]\nwitnesses = ["{url} {key}"]\n')
        yield pins / "ledger.vkey", pins / "w1.vkey"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _append_and_sign(count: int, tag: str) -> Ran:
    Ledger.open(load_settings()).append_many(
        [EntryDraft(DECIDED, f"{tag}-{i}", "worker", {"outcome": "needs_approval"}) for i in range(count)]
    )
    return docval("ledger", "checkpoint")


def _pinned(vkey: Path, wkey: Path) -> Ran:
    return docval("ledger", "verify", "--vkey", str(vkey), "--witness-key", str(wkey))


def _bundle_verify(folder: Path, *pins: str) -> subprocess.CompletedProcess[str]:
    """The auditor's run: `docval ledger export`, then the bundle's own verify.py alone."""
    assert docval("ledger", "export", str(folder)).returncode == 0
    return subprocess.run(
        [sys.executable, str(folder / "verify.py"), str(folder), *pins], capture_output=True, text=True, timeout=120
    )


def _copy_ledger(settings: Settings, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for path in settings.ledger_db.parent.glob(settings.ledger_db.name + "*"):
        shutil.copy2(path, folder / path.name)


def _restore_ledger(settings: Settings, folder: Path) -> None:
    for path in settings.ledger_db.parent.glob(settings.ledger_db.name + "*"):
        path.unlink()
    for path in folder.iterdir():
        shutil.copy2(path, settings.ledger_db.parent / path.name)


def test_old_database_and_old_checkpoints_fail_against_the_witness(
    settings: Settings, witnessed: tuple[Path, Path], tmp_path: Path
) -> None:
    first = _append_and_sign(5, "a")
    assert first.returncode == 0 and "witness auditor.example/w1: cosigned" in first.stderr, first.stderr
    _copy_ledger(settings, tmp_path / "backup")  # 5 entries, signed and cosigned: a perfect old state
    assert _append_and_sign(5, "b").returncode == 0
    assert _pinned(*witnessed).returncode == 0, _pinned(*witnessed).stdout
    vkey, wkey = witnessed
    audited = _bundle_verify(tmp_path / "bundle", "--vkey", str(vkey), "--witness-key", str(wkey))
    assert audited.returncode == 0 and "PASS witnesses: the checkpoint is cosigned by auditor.example/w1" in (
        audited.stdout
    ), audited.stdout
    _restore_ledger(settings, tmp_path / "backup")
    assert docval("ledger", "verify").returncode == 0  # consistent with itself: today's verify says OK
    verified = _pinned(*witnessed)
    assert verified.returncode == 1, verified.stdout
    assert "rollback: witness auditor.example/w1 cosigned size 10" in verified.stdout, verified.stdout


def test_truncated_and_re_signed_history_is_refused_and_fails(
    settings: Settings, witnessed: tuple[Path, Path], tmp_path: Path
) -> None:
    Ledger.open(load_settings()).append_many(_decisions(6))
    _copy_ledger(settings, tmp_path / "unsigned")  # 6 entries nobody signed yet
    assert _append_and_sign(4, "b").returncode == 0  # 10 entries, cosigned
    _restore_ledger(settings, tmp_path / "unsigned")  # the last 4 deleted ...
    resigned = _append_and_sign(6, "forged")  # ... and a new history signed with the operator's own key
    assert "NOT cosigned" in resigned.stderr and "422" in resigned.stderr, resigned.stderr
    assert docval("ledger", "verify").returncode == 0
    verified = _pinned(*witnessed)
    assert verified.returncode == 1, verified.stdout
    assert "latest checkpoint (size 12) is cosigned by 0 of the 1 witnesses required" in verified.stdout
    audited = _bundle_verify(tmp_path / "bundle", "--witness-key", str(witnessed[1]))
    assert audited.returncode == 1 and "FAIL witnesses: the checkpoint is cosigned by 0 of the 1" in audited.stdout


def test_history_re_signed_with_a_new_key_fails_the_pinned_key(settings: Settings, tmp_path: Path) -> None:
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    pinned = tmp_path / "pinned.vkey"
    shutil.copy(anchor_path(settings.ledger_keys_dir), pinned)
    ledger = Ledger.open(settings)
    ledger.append_many(_decisions(3))
    ledger.checkpoint()
    bodies = [json.loads(entry.canonical) for entry in ledger.entries()]
    for path in [*settings.ledger_keys_dir.glob("ledger.*"), *settings.ledger_db.parent.glob("ledger.duckdb*")]:
        path.unlink()
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)  # a new key and a new ledger.vkey
    rebuilt = Ledger.open(settings)
    rebuilt.append_many([EntryDraft(b["kind"], b["doc"], b["actor"], {"outcome": "auto_approve"}) for b in bodies])
    rebuilt.checkpoint()
    assert docval("ledger", "verify").returncode == 0  # consistent with the new key
    verified = docval("ledger", "verify", "--vkey", str(pinned))
    assert verified.returncode == 1 and "FAILED pinned key" in verified.stdout, verified.stdout
    assert _bundle_verify(tmp_path / "plain").returncode == 0  # against its own ledger.vkey: VERIFIED
    audited = _bundle_verify(tmp_path / "pinned", "--vkey", str(pinned))
    assert audited.returncode == 1 and "FAIL pinned key: the bundle's trust anchor is not" in audited.stdout
    doc = subprocess.run(
        [sys.executable, str(tmp_path / "pinned" / "verify.py"), str(tmp_path / "pinned"), "--doc", "doc-0",
         "--vkey", str(pinned)], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert doc.returncode == 1 and "FAIL pinned key" in doc.stdout, doc.stdout
