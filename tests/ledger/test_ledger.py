"""The Ledger API on a real DuckDB file with real Ed25519 keys."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import rfc8785

from docval.db import connect
from docval.settings import Settings, load_settings
from ledger import Entry, EntryDraft, Ledger, LedgerError, init_keys, merkle
from ledger.bundle_verify import Checkpoint, VerifierKey, open_note, verify_tlog_proof
from ledger.keys import signing_key_path
from ledger.proofs import tlog_proof


def _checkpoint(note: str, key: str) -> Checkpoint:
    return Checkpoint.parse(open_note(note, VerifierKey.parse(key)))


def test_entries_are_canonical_chained_and_numbered(ledger: Ledger, drafts: Callable[..., list[EntryDraft]]) -> None:
    assert ledger.append("note", doc=None, actor="tests", data={"b": 1, "a": [True, None]}) == 0
    assert ledger.append_many(drafts(3)) == [1, 2, 3]
    entries = list(ledger.entries())
    assert [entry.seq for entry in entries] == [0, 1, 2, 3]
    assert entries[0].prev == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev == before.leaf_hash.hex()
    first = entries[0]
    assert first.canonical == rfc8785.dumps(
        {"seq": 0, "prev": first.prev, "ts": first.ts, "kind": "note", "doc": None, "actor": "tests",
         "data": {"a": [True, None], "b": 1}}
    )  # fmt: skip
    assert first.leaf_hash == merkle.leaf_hash(first.canonical)
    assert first.ts.endswith("Z")
    assert [entry.seq for entry in ledger.entries(1, 3)] == [1, 2]
    assert [entry.seq for entry in ledger.entries_for_doc("doc-a")] == [1, 2, 3]
    assert ledger.size() == 4


def test_a_bad_draft_rejects_the_whole_batch(ledger: Ledger, drafts: Callable[..., list[EntryDraft]]) -> None:
    ledger.append_many(drafts(2))
    bad = [*drafts(2), EntryDraft("note", None, "tests", {"x": float("nan")})]
    with pytest.raises(LedgerError, match="canonical"):
        ledger.append_many(bad)
    with pytest.raises(LedgerError, match="actor"):
        ledger.append("note", doc=None, actor="", data={})
    with pytest.raises(LedgerError, match=r"keys rotate"):
        ledger.append("key.rotated", doc=None, actor="x", data={})
    assert ledger.size() == 2
    assert ledger.verify().ok


def test_checkpoints_are_signed_per_batch_and_prove_consistency(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(1))  # the first append finds no checkpoint at all: signs at once
    ledger.append_many(drafts(5))
    assert len(ledger.checkpoints()) == 1
    note = ledger.checkpoint()
    assert len(ledger.checkpoints()) == 2
    assert ledger.checkpoint() == note  # nothing new: no new checkpoint
    old, new = (_checkpoint(n, ledger.verifier_key()) for n in ledger.checkpoints())
    assert (old.size, new.size) == (1, 6)
    assert new.root == ledger.root()
    assert new.origin == "docval.local/ledger"
    merkle.verify_consistency(1, 6, ledger.consistency_proof(1, 6), old.root, new.root)
    for seq, entry in enumerate(ledger.entries()):
        merkle.verify_inclusion(seq, 6, entry.leaf_hash, ledger.inclusion_proof(seq, 6), new.root)


def test_auto_checkpoint_every_n_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_EVERY", "10")
    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_SECONDS", "3600")
    settings = load_settings()
    init_keys(settings.keys_dir, "docval-ledger")
    ledger = Ledger.open(settings)
    for _ in range(25):
        ledger.append("note", doc=None, actor="tests", data={})
    key = ledger.verifier_key()
    assert [_checkpoint(note, key).size for note in ledger.checkpoints()] == [1, 11, 21]


def test_auto_checkpoint_after_checkpoint_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_EVERY", "1000")
    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_SECONDS", "0.3")
    settings = load_settings()
    init_keys(settings.keys_dir, "docval-ledger")
    ledger = Ledger.open(settings)
    ledger.append("note", doc=None, actor="tests", data={})  # first entry: signed at once
    ledger.append("note", doc=None, actor="tests", data={})  # too soon: stays unsigned
    assert len(ledger.checkpoints()) == 1
    time.sleep(0.4)
    ledger.append("note", doc=None, actor="tests", data={})
    key = ledger.verifier_key()
    assert [_checkpoint(note, key).size for note in ledger.checkpoints()] == [1, 3]


def test_note_key_format_and_key_id(ledger: Ledger) -> None:
    name, key_id, encoded = ledger.verifier_key().split("+", 2)
    raw = base64.b64decode(encoded)
    assert name == "docval-ledger" and raw[0] == 1 and len(raw) == 33
    assert key_id == hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()


def test_readers_need_no_signing_key(
    ledger: Ledger, settings: Settings, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(3))
    signing_key_path(settings.keys_dir).unlink()
    reader = Ledger.open(settings)
    assert reader.size() == 3
    assert reader.verify().ok
    assert reader.inclusion_proof(1)
    reader.append("note", doc=None, actor="tests", data={})  # no checkpoint due yet: no key needed
    with pytest.raises(LedgerError, match="keys init"):
        reader.checkpoint()


def test_keys_init_refuses_to_overwrite_and_wide_modes_are_refused(
    ledger: Ledger, settings: Settings, drafts: Callable[..., list[EntryDraft]]
) -> None:
    key_file = signing_key_path(settings.keys_dir)
    assert key_file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(LedgerError, match="already exists"):
        init_keys(settings.keys_dir, "docval-ledger")
    ledger.append_many(drafts(2))
    os.chmod(key_file, 0o640)
    fresh = Ledger.open(settings)
    fresh.append("note", doc=None, actor="tests", data={})
    with pytest.raises(LedgerError, match="0640"):
        fresh.checkpoint()


def test_rotation_hands_over_and_verification_follows(
    ledger: Ledger, settings: Settings, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(3))
    old_key = ledger.verifier_key()
    seq = ledger.rotate_key("admin")
    assert seq == 3
    new_key = ledger.verifier_key()
    assert new_key != old_key
    assert ledger.key_history() == [old_key, new_key]
    (rotation,) = [entry for entry in ledger.entries() if entry.kind == "key.rotated"]
    assert rotation.data["old_key"] == old_key and rotation.data["new_key"] == new_key
    ledger.append_many(drafts(2))
    ledger.checkpoint()
    notes = ledger.checkpoints()
    assert _checkpoint(notes[-1], new_key).size == 6
    with pytest.raises(merkle.VerifyError):
        _checkpoint(notes[-1], old_key)
    assert Ledger.open(settings).verify().ok
    assert not (settings.keys_dir / "ledger.key.next").exists()


def test_tlog_proof_verifies_offline(ledger: Ledger, drafts: Callable[..., list[EntryDraft]]) -> None:
    ledger.append_many(drafts(7))
    ledger.checkpoint()
    key = VerifierKey.parse(ledger.verifier_key())
    entries: list[Entry] = list(ledger.entries())
    for entry in entries:
        proof = tlog_proof(ledger, entry.seq)
        assert verify_tlog_proof(proof, entry.canonical, key).size == 7
    with pytest.raises(merkle.VerifyError):
        verify_tlog_proof(tlog_proof(ledger, 2), entries[3].canonical, key)
    ledger.append_many(drafts(1))
    with pytest.raises(LedgerError, match="not covered"):
        tlog_proof(ledger, 7)


def test_proof_requests_outside_the_tree_are_typed_errors(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(4))
    with pytest.raises(LedgerError):
        ledger.inclusion_proof(4)
    with pytest.raises(LedgerError):
        ledger.inclusion_proof(0, 9)
    with pytest.raises(LedgerError):
        ledger.consistency_proof(0, 4)


def test_iterating_entries_holds_no_lock_between_chunks(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(25))
    iterator = ledger.entries(0, None, chunk=10)
    assert next(iterator).seq == 0
    ledger.append_many(drafts(1))  # a writer gets in while the reader is mid-iteration
    assert [entry.seq for entry in iterator] == list(range(1, 25))


def test_a_rotation_interrupted_before_its_file_move_is_finished_on_next_signing(
    ledger: Ledger, settings: Settings, drafts: Callable[..., list[EntryDraft]], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.append_many(drafts(2))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        ledger.rotate_key("admin")  # committed, but the new key file was never moved into place
    monkeypatch.setattr(os, "replace", real_replace)
    fresh = Ledger.open(settings)
    fresh.append_many(drafts(1))
    fresh.checkpoint()
    assert not (settings.keys_dir / "ledger.key.next").exists()
    assert fresh.verify().ok


def test_writer_session_signs_on_close_and_rolls_back_a_failed_batch(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    with ledger.writer() as writer:
        assert writer.append_many(drafts(3)) == [0, 1, 2]
        with pytest.raises(LedgerError):
            writer.append_many([*drafts(2), EntryDraft("note", None, "tests", {"x": float("nan")})])
        assert writer.append_many(drafts(2)) == [3, 4]  # the session reopens after the failed batch
    assert ledger.size() == 5
    note = ledger.latest_checkpoint()
    assert note is not None and "\n5\n" in note  # signed on close: nothing is left unsigned
    assert ledger.verify().ok


def test_proofs_stay_right_when_row_numbers_drift_from_positions(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    """Proofs fetch nodes by row number; a rewritten row (new row number, same pos) must not change them."""
    ledger.append_many(drafts(200))
    size = ledger.size()
    before = [ledger.inclusion_proof(seq, size) for seq in range(0, size, 7)]
    consistency_before = [ledger.consistency_proof(old, size) for old in range(1, size, 13)]
    with connect(ledger.db_path, write=True) as con:  # move every node of the first blocks to the end
        con.execute("CREATE TEMP TABLE moved AS SELECT * FROM nodes WHERE pos < 300")
        con.execute("DELETE FROM nodes WHERE pos < 300")
        con.execute("INSERT INTO nodes SELECT * FROM moved")
    fresh = Ledger(ledger.db_path, ledger.keys_dir, ledger.config)  # no cached nodes
    assert [fresh.inclusion_proof(seq, size) for seq in range(0, size, 7)] == before
    assert [fresh.consistency_proof(old, size) for old in range(1, size, 13)] == consistency_before


def test_verify_reads_rows_in_seq_order_whatever_their_storage_order(
    ledger: Ledger, drafts: Callable[..., list[EntryDraft]]
) -> None:
    ledger.append_many(drafts(50))
    ledger.checkpoint()
    with connect(ledger.db_path, write=True) as con:  # store the first rows of both tables last
        for table, key in (("entries", "seq"), ("nodes", "pos")):
            con.execute(f"CREATE TEMP TABLE moved AS SELECT * FROM {table} WHERE {key} < 10")
            con.execute(f"DELETE FROM {table} WHERE {key} < 10")
            con.execute(f"INSERT INTO {table} SELECT * FROM moved")
            con.execute("DROP TABLE moved")
    report = ledger.verify()
    assert report.ok, report
