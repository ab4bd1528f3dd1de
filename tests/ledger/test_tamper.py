"""Every tamper from issue 2, caught by `docval ledger verify` and by the exported verify.py, naming the seq."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from docval.db import connect
from docval.settings import Settings
from ledger import EntryDraft, Ledger, merkle
from ledger.bundle_verify import CHECKS, Checkpoint, split_note
from ledger.export import write_manifest
from ledger.keys import SigningKey, sign_note


@pytest.fixture
def filled(ledger: Ledger, drafts: Callable[..., list[EntryDraft]]) -> Ledger:
    """20 entries, checkpoints at 5 (first batch) and 20."""
    for _ in range(4):
        ledger.append_many(drafts(5))
    ledger.checkpoint()
    return ledger


def _cli_verify() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docval", "ledger", "verify"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )


def _sql(ledger: Ledger, statement: str, params: list | None = None) -> None:
    with connect(ledger.db_path, write=True) as con:
        con.execute(statement, params or [])


def _body(ledger: Ledger, seq: int) -> bytes:
    with connect(ledger.db_path, write=False) as con:
        return bytes(con.execute("SELECT body FROM entries WHERE seq = ?", [seq]).fetchall()[0][0])


def _assert_caught(ledger: Ledger, check: str, seq: int | None, words: str = "") -> None:
    report = ledger.verify()
    assert not report.ok
    assert (report.check, report.first_bad_seq) == (check, seq), report
    assert words in (report.reason or "")
    result = _cli_verify()
    assert result.returncode == 1
    assert f"FAILED {check}" + (f" at seq {seq}" if seq is not None else "") in result.stdout


def test_untouched_ledger_verifies_in_process_and_by_cli(filled: Ledger) -> None:
    assert filled.verify().ok
    result = _cli_verify()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 20 entries, 2 checkpoints" in result.stdout


def test_one_changed_byte_in_an_entry(filled: Ledger) -> None:
    body = _body(filled, 7)
    _sql(filled, "UPDATE entries SET body = ? WHERE seq = 7", [body.replace(b"entry 2", b"entry 3")])
    _assert_caught(filled, "chain", 7, "altered")


def test_one_changed_byte_in_the_last_entry(filled: Ledger) -> None:
    body = _body(filled, 19)
    _sql(filled, "UPDATE entries SET body = ? WHERE seq = 19", [body.replace(b"entry 4", b"entry 5")])
    _assert_caught(filled, "stored tree", 19, "leaf hash")


def test_deleted_row(filled: Ledger) -> None:
    _sql(filled, "DELETE FROM entries WHERE seq = 11")
    _assert_caught(filled, "sequence", 11, "missing")


def test_swapped_rows(filled: Ledger) -> None:
    first, second = _body(filled, 12), _body(filled, 13)
    _sql(filled, "UPDATE entries SET body = ? WHERE seq = 12", [second])
    _sql(filled, "UPDATE entries SET body = ? WHERE seq = 13", [first])
    _assert_caught(filled, "sequence", 12)


def test_replaced_node_hash(filled: Ledger) -> None:
    _sql(filled, "UPDATE nodes SET hash = ? WHERE pos = ?", [bytes(32), merkle.node_position(2, 2)])
    _assert_caught(filled, "stored tree", 8, "subtree 2/2")


def test_checkpoint_forged_with_another_key(filled: Ledger, drafts: Callable[..., list[EntryDraft]]) -> None:
    filled.append_many(drafts(2))
    forged = sign_note(Checkpoint(filled.config.origin, 22, filled.root()).body(), SigningKey.generate("docval-ledger"))
    _sql(filled, "INSERT INTO checkpoints VALUES (22, 0, ?)", [forged])
    _assert_caught(filled, "checkpoint signature", None, "size 22")


def test_rollback_to_an_earlier_copy(
    filled: Ledger, settings: Settings, drafts: Callable[..., list[EntryDraft]]
) -> None:
    backup = settings.data_dir / "backup.duckdb"
    shutil.copyfile(filled.db_path, backup)
    filled.append_many(drafts(5))
    filled.checkpoint()
    shutil.copyfile(backup, filled.db_path)  # self-consistent, but the witness file remembers size 25
    _assert_caught(filled, "rollback", 20, "25")


# ------------------------------------------------------------------ the exported bundle


def _export(ledger: Ledger, directory: Path) -> Path:
    ledger.export(directory)
    return directory


def _bundle_verify(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # Run as auditors would: the copied script alone, outside the repository, no docval on the path.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-I", str(directory / "verify.py"), str(directory), *extra],
        capture_output=True, text=True, timeout=120, cwd=directory, env=env,
    )  # fmt: skip


def _lines(directory: Path) -> list[bytes]:
    return (directory / "entries.jsonl").read_bytes().splitlines(keepends=True)


def _rewrite(directory: Path, lines: list[bytes]) -> None:
    """Tamper, then recompute the manifest as a careful attacker would: the log checks must still catch it."""
    (directory / "entries.jsonl").write_bytes(b"".join(lines))
    write_manifest(directory)


def test_export_verifies_standalone(filled: Ledger, tmp_path: Path) -> None:
    bundle = _export(filled, tmp_path / "bundle")
    assert sorted(p.name for p in bundle.iterdir()) == [
        "checkpoint", "entries.jsonl", "ledger.vkey", "manifest.json", "verify.py"
    ]  # fmt: skip
    assert all(line.endswith(b"\n") for line in _lines(bundle))
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert set(manifest["files"]) == {"checkpoint", "entries.jsonl", "ledger.vkey", "verify.py"}
    result = _bundle_verify(bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS ") == len(CHECKS) and "VERIFIED" in result.stdout  # one line per check


def test_export_tampers_are_caught(filled: Ledger, tmp_path: Path) -> None:
    cases: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
        "byte": (lambda ls: [*ls[:7], ls[7].replace(b"entry 2", b"entry 3"), *ls[8:]], "FAIL entries: chain at seq 7"),
        "delete": (lambda ls: ls[:11] + ls[12:], "FAIL entries: sequence at seq 11"),
        "swap": (lambda ls: [*ls[:12], ls[13], ls[12], *ls[14:]], "FAIL entries: sequence at seq 12"),
        "truncate": (lambda ls: ls[:10], "FAIL checkpoint: rollback at seq 10"),
    }
    for name, (tamper, expected) in cases.items():
        bundle = _export(filled, tmp_path / name)
        _rewrite(bundle, tamper(_lines(bundle)))
        result = _bundle_verify(bundle)
        assert result.returncode == 1, name
        assert expected in result.stdout, (name, result.stdout)


def test_export_unrecomputed_manifest_is_caught(filled: Ledger, tmp_path: Path) -> None:
    bundle = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    (bundle / "entries.jsonl").write_bytes(b"".join([*lines[:5], lines[5].replace(b"entry 0", b"entry 9"), *lines[6:]]))
    result = _bundle_verify(bundle)
    assert "FAIL manifest: entries.jsonl does not match" in result.stdout
    assert "FAIL entries: chain at seq 5" in result.stdout


def test_export_forged_or_altered_checkpoint_is_caught(filled: Ledger, tmp_path: Path) -> None:
    bundle = _export(filled, tmp_path / "forged")
    checkpoint = Checkpoint.parse(split_note((bundle / "checkpoint").read_text())[0])
    (bundle / "checkpoint").write_text(sign_note(checkpoint.body(), SigningKey.generate("docval-ledger")))
    write_manifest(bundle)
    assert "FAIL checkpoint: checkpoint signature: no valid signature" in _bundle_verify(bundle).stdout

    bundle = _export(filled, tmp_path / "root")
    text = (bundle / "checkpoint").read_text()
    lines = text.split("\n")
    lines[2] = "A" + lines[2][1:] if lines[2][0] != "A" else "B" + lines[2][1:]
    (bundle / "checkpoint").write_text("\n".join(lines))
    write_manifest(bundle)
    assert "FAIL checkpoint: checkpoint signature: no valid signature" in _bundle_verify(bundle).stdout


def test_export_rollback_is_caught_against_a_known_checkpoint(
    filled: Ledger, tmp_path: Path, drafts: Callable[..., list[EntryDraft]]
) -> None:
    old = _export(filled, tmp_path / "old")
    filled.append_many(drafts(5))
    filled.checkpoint()
    new = _export(filled, tmp_path / "new")
    known = tmp_path / "seen-checkpoint"
    shutil.copyfile(new / "checkpoint", known)
    assert _bundle_verify(new, "--known-checkpoint", str(known)).returncode == 0
    result = _bundle_verify(old, "--known-checkpoint", str(known))  # the operator hands out the older state
    assert result.returncode == 1
    assert "FAIL known checkpoints: known checkpoint: rollback at seq 20" in result.stdout
