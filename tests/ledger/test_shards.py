"""Ledger shards and the anchor pass: real DuckDB files, real Ed25519 keys, real worker processes."""

from __future__ import annotations

import base64
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from docval.db import connect
from docval.settings import Settings, load_settings
from docval.shards import root_settings, shard_env, shard_name_of, shard_names, shard_settings
from ledger import AnchorReport, EntryDraft, Ledger, anchor_shards, init_keys, verify_installation
from ledger.bundle_verify import Checkpoint, open_note, split_note, verify_consistency, verify_inclusion
from ledger.keys import load_anchor

SHARDS = ("w1", "w2", "w3")
BATCHES = 15


def _shard(settings: Settings, name: str) -> Ledger:
    """A shard as a worker would make it: its own file, origin and key."""
    shard = shard_settings(settings, name)
    shard.ensure_dirs()
    init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
    return Ledger.open(shard)


def _grow(ledger: Ledger, count: int, tag: str = "x") -> str:
    ledger.append_many([EntryDraft("note", None, "worker", {"tag": tag, "i": i}) for i in range(count)])
    return ledger.checkpoint()


def _root(settings: Settings) -> Ledger:
    if not (settings.ledger_keys_dir / "ledger.vkey").exists():
        init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    return Ledger.open(settings)


def _anchor_entries(root: Ledger, kind: str = "anchor.checkpoint") -> list[dict]:
    return [entry.data | {"seq": entry.seq} for entry in root.entries() if entry.kind == kind]


def _docval_ledger(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docval", "ledger", command], capture_output=True, text=True, timeout=120, env=os.environ
    )


def _statuses(report: AnchorReport) -> dict[str, str]:
    return {outcome.shard: outcome.status for outcome in report.outcomes}


def test_shard_env_makes_keys_init_write_the_shards_own_key(settings: Settings) -> None:
    env = {**os.environ, **shard_env(settings, "w1")}
    result = subprocess.run(
        [sys.executable, "-m", "docval", "keys", "init"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    keys = settings.data_dir / "shards" / "w1" / "keys"
    assert stat.S_IMODE((keys / "ledger.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert load_anchor(keys).name == "docval-ledger-w1"
    assert not (settings.keys_dir / "ledger.key").exists()  # the root's key is not the shard's
    shard = shard_settings(settings, "w1")
    assert shard.ledger.origin == "docval.local/ledger/w1"
    assert shard.ledger_db == settings.data_dir / "shards" / "w1" / "ledger.duckdb"
    assert shard.keys_dir == settings.keys_dir  # shared secrets stay shared


def test_anchor_three_shards_then_a_second_pass_proves_consistency(settings: Settings) -> None:
    root = _root(settings)
    shards = {name: _shard(settings, name) for name in SHARDS}
    first = {name: _grow(ledger, 5 + 3 * i) for i, (name, ledger) in enumerate(shards.items())}
    assert shard_names(settings) == list(SHARDS)

    report = anchor_shards(settings)
    assert _statuses(report) == dict.fromkeys(SHARDS, "anchored")
    entries = _anchor_entries(root)
    assert [(e["shard"], e["checkpoint"], e["previous_size"]) for e in entries] == [
        (name, first[name], 0) for name in SHARDS
    ]
    root_checkpoint = Checkpoint.parse(split_note(report.root_checkpoint)[0])
    assert root_checkpoint.size == root.size() == 3  # one root checkpoint commits to all three

    second = {name: _grow(shards[name], 7, "more") for name in ("w1", "w3")}
    report = anchor_shards(settings)
    assert _statuses(report) == {"w1": "anchored", "w2": "unchanged", "w3": "anchored"}
    for entry in _anchor_entries(root)[3:]:
        old = next(e for e in entries if e["shard"] == entry["shard"])
        new = Checkpoint.parse(split_note(second[entry["shard"]])[0])
        assert (entry["previous_size"], entry["size"], entry["checkpoint"]) == (
            old["size"],
            new.size,
            second[entry["shard"]],
        )
        proof = [base64.b64decode(node) for node in entry["consistency"]]
        verify_consistency(old["size"], new.size, proof, base64.b64decode(old["root"]), new.root)
    assert verify_installation(settings).ok
    assert anchor_shards(settings).outcomes and root.size() == 5  # nothing new: nothing appended


def test_rolled_back_shard_is_refused_recorded_once_and_caught_by_verify(settings: Settings, tmp_path: Path) -> None:
    root = _root(settings)
    shards = {name: _shard(settings, name) for name in SHARDS}
    for ledger in shards.values():
        _grow(ledger, 4)
    saved = tmp_path / "w2-at-4.duckdb"
    shutil.copyfile(shards["w2"].db_path, saved)
    for ledger in shards.values():
        _grow(ledger, 6)
    assert _statuses(anchor_shards(settings)) == dict.fromkeys(SHARDS, "anchored")

    shutil.copyfile(saved, shards["w2"].db_path)  # restore an older, self-consistent copy of w2
    _grow(shards["w1"], 2)
    report = anchor_shards(settings)
    assert _statuses(report) == {"w1": "anchored", "w2": "refused", "w3": "unchanged"}
    assert "ROLLBACK" in report.refused[0].detail and "4 entries, 10 were anchored" in report.refused[0].detail
    refusals = _anchor_entries(root, "anchor.refused")
    assert [(r["shard"], r["reason"], r["anchored_size"], r["offered_size"]) for r in refusals] == [
        ("w2", "ROLLBACK", 10, 4)
    ]
    anchor_shards(settings)
    assert len(_anchor_entries(root, "anchor.refused")) == 1  # the same refusal is not written every pass

    installation = verify_installation(settings)
    assert not installation.ok and installation.root.ok
    assert installation.shards["w1"].ok and installation.shards["w3"].ok
    assert installation.shards["w2"].check == "rollback"
    assert "shard w2: FAILED rollback at seq 4" in installation.summary()


def test_forked_shard_is_refused(settings: Settings) -> None:
    root = _root(settings)
    shard = _shard(settings, "w1")
    _grow(shard, 10, "original")
    assert _statuses(anchor_shards(settings)) == {"w1": "anchored"}
    for path in (shard.db_path, shard.checkpoint_copy_path):  # the shard's file replaced by another history, same key
        path.unlink()
    _grow(Ledger.open(shard_settings(settings, "w1")), 12, "forked")
    report = anchor_shards(settings)
    assert _statuses(report) == {"w1": "refused"}
    assert report.refused[0].detail.startswith("FORK: checkpoint of size 12 does not extend anchored size 10")
    (refusal,) = _anchor_entries(root, "anchor.refused")
    assert (refusal["reason"], refusal["offered_size"], refusal["anchored_size"]) == ("FORK", 12, 10)
    installation = verify_installation(settings)
    assert installation.shards["w1"].check == "checkpoint root"
    assert "size 10" in (installation.shards["w1"].reason or "")


def test_tamper_in_a_shard_is_named_with_shard_and_seq(settings: Settings) -> None:
    _root(settings)
    shards = {name: _shard(settings, name) for name in SHARDS}
    for ledger in shards.values():
        _grow(ledger, 12)
    anchor_shards(settings)
    with connect(shards["w3"].db_path, write=True) as con:
        body = bytes(con.execute("SELECT body FROM entries WHERE seq = 7").fetchall()[0][0])
        con.execute("UPDATE entries SET body = ? WHERE seq = 7", [body.replace(b'"i":7', b'"i":70')])
    result = _docval_ledger("verify")
    assert result.returncode == 1
    assert "shard w1: OK" in result.stdout and "shard w2: OK" in result.stdout
    assert "shard w3: FAILED chain at seq 7" in result.stdout, result.stdout


def test_a_shard_anchored_but_gone_fails_verify(settings: Settings) -> None:
    _root(settings)
    shard = _shard(settings, "w1")
    _grow(shard, 3)
    _shard(settings, "w2")  # a worker that has not signed anything yet
    assert _statuses(anchor_shards(settings)) == {"w1": "anchored", "w2": "empty"}
    shutil.rmtree(settings.data_dir / "shards" / "w1")
    report = verify_installation(settings)
    assert not report.ok and report.shards["w1"].check == "missing shard"


def _worker_appends(name: str, batches: int) -> None:
    """A worker process writing its shard through a bulk-writer session, checkpoint per batch."""
    settings = load_settings()
    shard = Ledger.open(shard_settings(settings, name))
    with shard.writer() as writer:
        for batch in range(batches):
            writer.append_many([EntryDraft("note", None, name, {"b": batch, "i": i}) for i in range(200)])
            writer.checkpoint()


def test_anchor_passes_while_worker_processes_write_their_shards(settings: Settings) -> None:
    root = _root(settings)
    for name in SHARDS:
        _grow(_shard(settings, name), 1)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker_appends, args=(name, BATCHES)) for name in SHARDS]
    for worker in workers:
        worker.start()
    passes = 0
    while any(worker.is_alive() for worker in workers) or passes < 2:
        report = anchor_shards(settings)
        assert not report.refused, report.summary()
        passes += 1
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    final = anchor_shards(settings)
    assert {outcome.size for outcome in final.outcomes} == {1 + BATCHES * 200}
    assert verify_installation(settings).ok
    assert len(_anchor_entries(root)) >= 3


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(st.tuples(st.sampled_from(SHARDS), st.integers(1, 40)), st.just(("anchor", 0))),
        min_size=1,
        max_size=8,
    )
)
def test_root_commits_to_every_shard_checkpoint(settings: Settings, steps: list[tuple[str, int]]) -> None:
    """Whatever the shard sizes and the order of appends and passes, after a pass the root's signed checkpoint
    includes, for every shard, an anchor entry carrying that shard's latest checkpoint verbatim."""
    for folder in ("shards", "ledger.duckdb", "ledger.duckdb.checkpoints", "ledger.duckdb.lock"):
        path = settings.data_dir / folder
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    root = _root(settings)
    shards: dict[str, Ledger] = {}
    for name, count in [*steps, ("anchor", 0)]:
        if name != "anchor":
            ledger = shards.get(name) or shards.setdefault(name, _shard(settings, name))
            _grow(ledger, count)
            continue
        report = anchor_shards(settings)
        assert not report.refused
        if not shards:
            continue
        note = report.root_checkpoint
        checkpoint = Checkpoint.parse(open_note(note, load_anchor(settings.ledger_keys_dir)))
        entries = {entry.seq: entry for entry in root.entries(0, checkpoint.size)}
        for name, ledger in shards.items():
            latest = ledger.latest_checkpoint()
            seq = max(s for s, e in entries.items() if e.kind == "anchor.checkpoint" and e.data["shard"] == name)
            assert entries[seq].data["checkpoint"] == latest
            proof = root.inclusion_proof(seq, checkpoint.size)
            verify_inclusion(seq, checkpoint.size, entries[seq].leaf_hash, proof, checkpoint.root)
    assert verify_installation(settings).ok


def test_anchor_cli_exits_1_naming_the_refused_shard(settings: Settings, tmp_path: Path) -> None:
    _root(settings)
    shard = _shard(settings, "w1")
    _grow(shard, 3)
    anchor_shards(settings)
    other = tmp_path / "other-keys"
    init_keys(other, "intruder")
    for name in ("ledger.key", "ledger.vkey"):
        (shard.keys_dir / name).unlink()
        shutil.copy2(other / name, shard.keys_dir / name)
    result = _docval_ledger("anchor")
    assert result.returncode == 1
    assert "shard w1: refused" in result.stdout and "SIGNATURE" in result.stdout, result.stdout
    assert _anchor_entries(Ledger.open(settings), "anchor.refused")[0]["reason"] == "SIGNATURE"
    assert verify_installation(settings).shards["w1"].check == "trust anchor"


def test_anchor_and_verify_from_a_shard_workers_settings_use_the_root(settings: Settings) -> None:
    """Prefect may run the anchor on a worker whose environment names its shard: it still writes the root."""
    root = _root(settings)
    _grow(_shard(settings, "w1"), 3)
    worker = shard_settings(settings, "w1")
    assert shard_name_of(worker) == "w1" and shard_name_of(settings) is None
    assert root_settings(worker).ledger == settings.ledger
    assert _statuses(anchor_shards(worker)) == {"w1": "anchored"}
    assert [entry.kind for entry in root.entries()] == ["anchor.checkpoint"]
    assert list(verify_installation(worker).shards) == ["w1"]


def test_a_shard_that_rotated_its_key_is_anchored_by_the_handed_over_key(settings: Settings) -> None:
    root = _root(settings)
    shard = _shard(settings, "w1")
    _grow(shard, 3)
    anchor_shards(settings)
    shard.rotate_key("operator")
    _grow(shard, 2)
    assert _statuses(anchor_shards(settings)) == {"w1": "anchored"}
    first, second = _anchor_entries(root)
    assert first["vkey"] == second["vkey"] == first["signer"] != second["signer"] == shard.verifier_key()
    assert verify_installation(settings).ok


def test_a_shard_held_by_its_worker_is_busy_and_anchored_next_pass(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root stays locked only briefly: a shard locked past the wait is skipped as busy, never refused."""
    import ledger.anchor

    monkeypatch.setattr(ledger.anchor, "SHARD_WAIT_SECONDS", 0.3)
    root = _root(settings)
    shards = {name: _shard(settings, name) for name in ("w1", "w2")}
    for shard in shards.values():
        _grow(shard, 2)
    with connect(shards["w1"].db_path, write=True):  # the worker's transaction (flock: per open file)
        report = anchor_shards(settings)
    assert _statuses(report) == {"w1": "busy", "w2": "anchored"}
    assert "stayed locked" in report.outcomes[0].detail
    assert [entry.data["shard"] for entry in root.entries()] == ["w2"]
    assert _statuses(anchor_shards(settings)) == {"w1": "anchored", "w2": "unchanged"}


def test_shards_ask_no_witness_the_root_that_anchors_them_is_witnessed(tmp_path: Path) -> None:
    """Witnesses know one origin: a shard's checkpoints reach them through the root's anchor entries."""
    from docval.settings import load_settings
    from docval.shards import shard_env, shard_settings

    witness = "http://127.0.0.1:1 demo.invalid/w+9fb6b467+BJr327SYL0b7byOTbVQz69i+1tG6v78RumFoHRE1bRIa"
    root = load_settings(data_dir=tmp_path / "var", ledger={"witnesses": [witness]})
    assert root.ledger.witnesses == [witness]
    assert shard_settings(root, "w1").ledger.witnesses == []
    assert shard_env(root, "w1")["DOCVAL_LEDGER__WITNESSES"] == "[]"
