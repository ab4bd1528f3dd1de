"""The ``anchor-shards`` flow: fold every ledger shard's latest checkpoint into the root ledger, then sign it.

Thin orchestration over ``ledger.anchor.anchor_shards`` (plain Python, no
Prefect). Served on an interval (``flows.anchor_seconds``) next to the
``ledger-checkpoint`` deployment. A refused shard (fork, rollback, bad
signature) fails the run after the pass has recorded the refusal and anchored
every other shard, so the operator sees it in the UI and the root ledger
holds the evidence. Parameters and result carry shard names and sizes only.
"""

from __future__ import annotations

from prefect import flow

from docval.settings import load_settings
from flows.errors import FlowError

__all__ = ["anchor_shards_flow"]


@flow(name="anchor-shards", persist_result=False, log_prints=False)
def anchor_shards_flow(shards: list[str] | None = None) -> dict[str, str]:
    """One anchor pass over ``shards`` (default: every shard under data_dir/shards); shard -> "status size"."""
    from ledger.anchor import anchor_shards

    report = anchor_shards(load_settings(), shards)
    if report.refused:
        raise FlowError("anchor refused shard checkpoints:\n" + "\n".join(o.line() for o in report.refused))
    return {outcome.shard: f"{outcome.status} {outcome.size}" for outcome in report.outcomes}
