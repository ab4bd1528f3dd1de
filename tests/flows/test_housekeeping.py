"""An idle appliance stays quiet in the Prefect UI: at most 24 housekeeping runs a day (issue 16).

The served deployments are registered on the session's real Prefect server and their schedules read back
from it; the runs those schedules create over a simulated idle week are counted per day with the server's
own schedule arithmetic. Nothing waits for a person, so no deadline run is scheduled either.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import get_client
from prefect.server.schemas import schedules as server_schedules

from docval.settings import Settings
from flows.approvals.deadlines import schedule_next_deadline
from flows.serve import deployments

IDLE_DAYS = 7


def _registered(settings: Settings, *, anchor: bool = False) -> dict[str, list]:
    """Apply the served deployments to the server; ``flow/deployment`` -> the schedules the server holds."""
    served = deployments(settings, anchor=anchor)
    ids = [deployment.apply() for deployment in served]
    with get_client(sync_client=True) as client:
        try:
            read = [client.read_deployment(deployment_id) for deployment_id in ids]
            return {
                f"{deployment.flow_name}/{found.name}": [each.schedule for each in found.schedules if each.active]
                for deployment, found in zip(served, read, strict=True)
            }
        finally:
            for deployment_id in ids:  # nothing serves them here: leave the session's server without schedules
                client.delete_deployment(deployment_id)


def _runs_per_day(schedules: dict[str, list], start: datetime) -> Counter:
    end = start + timedelta(days=IDLE_DAYS)
    days: Counter = Counter()
    for each in (schedule for found in schedules.values() for schedule in found):
        server = getattr(server_schedules, type(each).__name__).model_validate(each.model_dump())
        for moment in asyncio.run(server.get_dates(n=100_000, start=start, end=end)):
            days[moment.astimezone(UTC).date()] += 1
    return days


def test_an_idle_appliance_creates_at_most_24_housekeeping_runs_a_day(flow_settings: Settings) -> None:
    assert schedule_next_deadline(flow_settings) is None  # nothing waits: no deadline run
    schedules = _registered(flow_settings)
    assert "ledger-checkpoint/scheduled" not in schedules  # checkpoints belong to batches
    assert schedules["ledger-checkpoint/on-demand"] == []
    assert not any(name.startswith("anchor-shards/") for name in schedules), "no shards, no anchor deployment"
    days = _runs_per_day(schedules, datetime(2026, 12, 1, tzinfo=UTC))  # a month's first day: the report runs
    assert days and max(days.values()) <= 24, days
    assert sum(days.values()) == IDLE_DAYS + 1  # the nightly retention sweep, and the monthly report once


def test_the_anchor_deployment_exists_with_shards(flow_settings: Settings) -> None:
    served = {f"{d.flow_name}/{d.name}" for d in deployments(flow_settings)}
    assert "anchor-shards/interval" not in served
    shard = flow_settings.data_dir / "shards" / "w1"
    shard.mkdir(parents=True)
    (shard / "ledger.duckdb").touch()
    served = {f"{d.flow_name}/{d.name}" for d in deployments(flow_settings)}
    assert "anchor-shards/interval" in served
    assert "anchor-shards/interval" in {f"{d.flow_name}/{d.name}" for d in deployments(flow_settings, anchor=True)}
