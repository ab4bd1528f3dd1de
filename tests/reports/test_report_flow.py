"""The Prefect report flow, deployment and KPI artifacts, against a real (temporary) Prefect server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.testing.utilities import prefect_test_harness
from prefect.utilities.callables import parameter_schema
from reporthelpers import period_args, run_period

from docval.events import EntryKind, ReportGeneratedPayload
from docval.settings import Settings
from flows.batch import publish_batch_kpis
from flows.report_flow import period_name, previous_month, report_deployment, report_flow
from ledger import Ledger


@pytest.fixture(scope="module", autouse=True)
def prefect_server() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


def _artifacts(key_prefix: str) -> list:
    with get_client(sync_client=True) as client:
        return [artifact for artifact in client.read_artifacts() if (artifact.key or "").startswith(key_prefix)]


def test_report_flow_writes_report_records_its_hash_and_links_it(settings: Settings, filled: Ledger) -> None:
    period = run_period()
    _, first, _, last = period_args(period)
    state = report_flow(period_from=first, period_to=last, return_state=True)
    result = state.result()
    out = settings.resolve(settings.reports.out_dir) / period.label
    assert Path(result["report"]) == out / "report.html" and (out / "bundle.zip").exists()
    recorded = [entry for entry in filled.entries() if entry.kind == EntryKind.REPORT_GENERATED]
    assert len(recorded) == 1 and recorded[0].seq == int(result["seq"])
    payload = ReportGeneratedPayload.model_validate(recorded[0].data)
    assert payload.report_sha256 == hashlib.sha256((out / "report.html").read_bytes()).hexdigest()
    assert payload.bundle_sha256 == hashlib.sha256((out / "bundle.zip").read_bytes()).hexdigest()
    links = {artifact.key: artifact for artifact in _artifacts(f"docval-report-{period.label.replace('_', '-')}")}
    assert len(links) == 3  # HTML, PDF, bundle; Prefect stores link artifacts as markdown links
    served = f"{settings.workbench.public_origin}/reports/{period.label}/"
    assert {name for name in ("report.html", "report.pdf", "bundle.zip") for artifact in links.values()
            if f"({served}{name})" in str(artifact.data)} == {"report.html", "report.pdf", "bundle.zip"}  # fmt: skip
    assert not any("file://" in str(artifact.data) for artifact in links.values())  # links that open in a browser
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == f"report-{period.label}"


def test_batch_kpis_are_published_as_table_and_markdown(settings: Settings, filled: Ledger) -> None:
    docs = sorted({entry.doc for entry in filled.entries() if entry.doc})[:25]

    @flow
    def batch() -> None:
        publish_batch_kpis(settings, docs, key="test-batch-kpis")

    batch()
    published = {artifact.key: artifact for artifact in _artifacts("test-batch-kpis")}
    assert published["test-batch-kpis"].type == "table"
    assert "| documents | 25 |" in str(published["test-batch-kpis-summary"].data)


def test_deployment_is_monthly_by_default_and_accepts_dates(settings: Settings) -> None:
    deployment = report_deployment(settings)
    assert deployment.name == "monthly-report"
    assert [schedule.schedule.cron for schedule in deployment.schedules] == ["0 6 1 * *"]
    assert deployment.parameters == {}  # scheduled runs report on the previous month
    assert set(parameter_schema(report_flow.fn).properties) == {"period_from", "period_to", "bundle"}


def test_previous_month_spans_whole_months() -> None:
    assert previous_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert previous_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_runs_are_named_for_people_by_their_period() -> None:
    assert period_name(date(2026, 11, 1), date(2026, 11, 30)) == "2026-11"
    assert period_name(date(2026, 2, 1), date(2026, 2, 28)) == "2026-02"
    assert period_name(date(2026, 11, 1), date(2026, 11, 29)) == "2026-11-01_2026-11-29"
    assert period_name(date(2026, 10, 1), date(2026, 11, 30)) == "2026-10-01_2026-11-30"
