"""Reports over ledger shards: one report and one bundle over the root and every anchored shard, verified offline."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reporthelpers import run_period

from docval.db import connect
from docval.settings import Settings, load_settings
from docval.shards import shard_settings
from ledger import EntryDraft, Ledger, anchor_shards, init_keys
from reports import ReportError, generate_report
from reports.synthetic import populate_ledger

PER_SHARD = 30
CROSS = "c" * 64  # claimed by worker w1, published by worker w2 (the approval ran there)


def _shard(settings: Settings, name: str) -> Ledger:
    shard = shard_settings(settings, name)
    shard.ensure_dirs()
    init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
    return Ledger.open(shard)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """A root ledger with two anchored shards of synthetic lifecycles, one document spanning both; and its bundle."""
    from docval.settings import load_settings

    root_dir = tmp_path_factory.mktemp("cluster")
    settings = load_settings(data_dir=root_dir / "var")
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    shards = {name: _shard(settings, name) for name in ("w1", "w2")}
    root = Ledger.open(settings)
    for seed, ledger in enumerate(shards.values(), start=11):  # the people are enrolled in the root
        populate_ledger(ledger, PER_SHARD, start=datetime.now(UTC), seed=seed, root=root)
    shards["w1"].append("doc.claimed", doc=CROSS, actor="watcher", data={"source_hash": "ab" * 32, "size": 10})
    shards["w2"].append(
        "doc.published", doc=CROSS, actor="approval", data={"state": "published", "result_sha256": "cd" * 32}
    )
    for ledger in shards.values():
        ledger.checkpoint()
    assert not anchor_shards(settings).refused
    out = root_dir / "out"
    files = generate_report(settings, run_period(), out, bundle=True)
    assert files.complete
    return settings, out


def _verify(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(bundle), *args], capture_output=True, text=True, timeout=300
    )


def test_report_covers_every_shard_and_names_the_shard_of_each_step(cluster: tuple[Settings, Path]) -> None:
    _, out = cluster
    statement = (out / "bundle" / "completeness.note").read_text(encoding="utf-8")
    assert f"ingested {2 * PER_SHARD + 1}\n" in statement
    assert "\nshard.w1 " in statement and "\nshard.w2 " in statement
    rows = {row["doc"]: row for row in csv.DictReader((out / "lineage.csv").open(encoding="utf-8"))}
    assert len(rows) == 2 * PER_SHARD + 1
    assert rows[CROSS]["seqs"].startswith("w1 ") and "; w2 " in rows[CROSS]["seqs"]
    assert rows[CROSS]["decision"].startswith("published")
    assert all(row["seqs"].split(" ")[0] in {"w1", "w2"} for row in rows.values())
    for name in ("w1", "w2"):
        folder = out / "bundle" / "shards" / name
        assert {path.name for path in folder.iterdir()} == {"entries.jsonl", "checkpoint", "ledger.vkey", "proofs"}
    assert list((out / "bundle" / "shards" / "w2" / "proofs" / CROSS).glob("*.proof"))


def test_sharded_bundle_verifies_offline_whole_and_per_document(cluster: tuple[Settings, Path]) -> None:
    bundle = cluster[1] / "bundle"
    result = _verify(bundle)
    assert result.returncode == 0, result.stdout
    assert "PASS shards: 2 shard(s)" in result.stdout
    assert "documents ingested" in result.stdout and f"{2 * PER_SHARD + 1} documents" in result.stdout
    one = _verify(bundle, "--doc", CROSS)
    assert "PASS lineage: shard w1: 1 entries" in one.stdout
    assert one.returncode == 0, one.stdout
    assert "shard w1: 1 entries" in one.stdout and "shard w2: 1 entries" in one.stdout


def _reseal(bundle: Path) -> None:
    """Rewrite the manifest over the tampered files, as an attacker would: the signed parts must still catch it."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {
        name: hashlib.sha256((bundle / name).read_bytes()).hexdigest()
        for name in manifest["files"]
        if (bundle / name).exists()
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("entry", "FAIL shards: shard w2: chain at seq 2"),
        ("drop-shard", "FAIL shards: the root anchored shard(s) w1, which the bundle lacks"),
        ("unanchored-checkpoint", "FAIL shards: shard w1: its checkpoint is not the one the root's signed log"),
    ],
)
def test_tampered_shard_in_a_bundle_is_caught(
    cluster: tuple[Settings, Path], tmp_path: Path, tamper: str, expected: str
) -> None:
    settings, out = cluster
    bundle = tmp_path / "bundle"
    shutil.copytree(out / "bundle", bundle)
    if tamper == "entry":
        path = bundle / "shards" / "w2" / "entries.jsonl"
        lines = path.read_bytes().split(b"\n")
        lines[2] = lines[2].replace(b'"actor":"', b'"actor":"x', 1)
        path.write_bytes(b"\n".join(lines))
    elif tamper == "drop-shard":
        shutil.rmtree(bundle / "shards" / "w1")
    else:  # w1 cut back to an earlier checkpoint, genuinely signed by w1, but not the one the root committed to
        folder = bundle / "shards" / "w1"
        earlier = Ledger.open(shard_settings(settings, "w1")).checkpoints()[0]  # signed before the key rotation
        size = int(earlier.split("\n")[1])
        lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
        (folder / "entries.jsonl").write_bytes(b"\n".join(lines[:size]) + b"\n")
        (folder / "ledger.vkey").write_text((folder / "ledger.vkey").read_text().splitlines()[0] + "\n")
        (folder / "checkpoint").write_text(earlier, encoding="utf-8")
        shutil.rmtree(folder / "proofs")
        (folder / "proofs").mkdir()
    _reseal(bundle)
    result = _verify(bundle)
    assert result.returncode == 1
    assert expected in result.stdout, result.stdout


def test_a_shard_the_root_has_not_anchored_yet_is_anchored_by_the_report(
    cluster: tuple[Settings, Path], tmp_path: Path
) -> None:
    """A report seals before it reads: a shard the anchor flow has not reached yet is anchored, not left out."""
    shutil.copytree(cluster[0].data_dir, tmp_path / "var")
    settings = load_settings(data_dir=tmp_path / "var")
    late = _shard(settings, "w9")
    late.append_many([EntryDraft("note", None, "w9", {"i": 1})])
    late.append_many([EntryDraft("note", None, "w9", {"i": 2})])  # unsigned: the report signs it too
    files = generate_report(settings, run_period(), tmp_path / "out", bundle=True)
    assert files.complete
    statement = (tmp_path / "out" / "bundle" / "completeness.note").read_text(encoding="utf-8")
    assert "\nshard.w9 2 " in statement  # both entries covered by the one signed root


def test_a_report_asked_for_from_a_shard_workers_settings_is_the_roots(
    cluster: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, out = cluster
    files = generate_report(shard_settings(settings, "w2"), run_period(), tmp_path / "out")
    assert files.complete and files.checkpoint_size == Ledger.open(settings).size()
    assert (tmp_path / "out" / "lineage.csv").read_text() == (out / "lineage.csv").read_text()


def test_a_shard_whose_stored_entries_differ_from_its_anchored_checkpoint_is_refused(
    cluster: tuple[Settings, Path], tmp_path: Path
) -> None:
    """An entry changed in the shard file after anchoring: the report names the shard and writes no bundle zip."""
    settings, _ = cluster
    copy = settings.model_copy(update={"data_dir": tmp_path / "var"})
    shutil.copytree(settings.data_dir, copy.data_dir)
    with connect(shard_settings(copy, "w2").ledger_db, write=True) as db:
        body = bytes(db.execute("SELECT body FROM entries WHERE seq = 2").fetchone()[0])
        db.execute("UPDATE entries SET body = ? WHERE seq = 2", [body.replace(b'"actor":"', b'"actor":"x', 1)])
    with pytest.raises(ReportError, match="ledger w2: exported entries do not hash to the signed checkpoint root"):
        generate_report(copy, run_period(), tmp_path / "out", bundle=True)
    assert not (tmp_path / "out" / "bundle.zip").exists()
