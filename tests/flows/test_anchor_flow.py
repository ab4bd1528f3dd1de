"""The anchor-shards flow on the flows tests' real Prefect server, and its served deployment."""

from __future__ import annotations

import stat

import pytest

from docval.settings import Settings
from docval.shards import shard_env, shard_settings
from flows.errors import FlowError
from ledger import EntryDraft, Ledger


def _worker_shard(settings: Settings, name: str, entries: int) -> Ledger:
    """A worker's shard prepared exactly as `docval up` prepares a data directory, then written to."""
    from flows.appliance import prepare

    shard = shard_settings(settings, name)
    prepare(shard)
    ledger = Ledger.open(shard)
    ledger.append_many([EntryDraft("note", None, name, {"i": i}) for i in range(entries)])
    ledger.checkpoint()
    return ledger


def test_anchor_flow_anchors_shards_and_fails_on_a_refused_one(flow_settings: Settings) -> None:
    from flows.anchor import anchor_shards_flow

    assert anchor_shards_flow() == {}  # no shards: nothing to do, the root is left alone
    w1 = _worker_shard(flow_settings, "w1", 4)
    _worker_shard(flow_settings, "w2", 6)
    key = flow_settings.data_dir / "shards" / "w1" / "keys" / "ledger.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert anchor_shards_flow() == {"w1": "anchored 4", "w2": "anchored 6"}
    assert anchor_shards_flow(["w2"]) == {"w2": "unchanged 6"}
    root = Ledger.open(flow_settings)
    assert [entry.data["shard"] for entry in root.entries() if entry.kind == "anchor.checkpoint"] == ["w1", "w2"]

    for path in (w1.db_path, w1.checkpoint_copy_path):  # w1 replaced by a shorter history: a rollback
        path.unlink()
    Ledger.open(shard_settings(flow_settings, "w1")).append("note", doc=None, actor="w1", data={})
    Ledger.open(shard_settings(flow_settings, "w1")).checkpoint()
    with pytest.raises(FlowError, match=r"shard w1: refused at size 4 \(ROLLBACK"):
        anchor_shards_flow()
    assert [entry.kind for entry in root.entries()][-1] == "anchor.refused"


def test_anchor_deployment_is_served_on_the_configured_interval(flow_settings: Settings, monkeypatch) -> None:
    from docval.settings import load_settings
    from flows.serve import deployments

    monkeypatch.setenv("DOCVAL_FLOWS__ANCHOR_SECONDS", "15")
    served = {deployment.name: deployment for deployment in deployments(load_settings(), anchor=True)}
    anchor = served["interval"]
    assert anchor.flow_name == "anchor-shards"
    assert anchor.schedules[0].schedule.interval.total_seconds() == 15
    assert shard_env(flow_settings, "w1")["DOCVAL_LEDGER__ORIGIN"] == "docval.local/ledger/w1"
