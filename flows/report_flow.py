"""The report deployment (monthly by default, editable in the UI, runnable on demand).

The flow is a thin shell: ``reports.generate_report`` does the work; this
module adds what only Prefect can give an operator who lives in its UI — a
schedule, a run button, and a link artifact to the report and bundle (a
batch run's KPI table is ``flows.batch.publish_batch_kpis``). The
report's hashes go into the ledger as a ``report.generated`` entry, so a
report handed to an auditor can be matched to the one the system produced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact
from prefect.deployments.runner import RunnerDeployment

from docval.events import EntryKind, ReportGeneratedPayload
from docval.settings import Settings, load_settings
from ledger import Ledger
from reports import Period, generate_report
from workbench.report_files import report_url

__all__ = ["period_name", "previous_month", "report_deployment", "report_flow"]

REPORT_ACTOR = "report-flow"


def previous_month(today: date) -> tuple[date, date]:
    """First and last day of the month before ``today``: what a run on the 1st reports on."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def report_run_name() -> str:
    """``report-2026-11`` for a calendar month (the scheduled runs), else ``report-<from>_<to>``."""
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    return f"report-{period_name(*_period(parameters.get('period_from'), parameters.get('period_to')))}"


def _period(period_from: str | None, period_to: str | None) -> tuple[date, date]:
    if period_from and period_to:
        return date.fromisoformat(period_from), date.fromisoformat(period_to)
    return previous_month(datetime.now(UTC).date())


def period_name(first: date, last: date) -> str:
    """A calendar month by its name (``2026-11``), any other period by its first and last day."""
    whole_month = first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month
    whole_month = whole_month and first.year == last.year
    return f"{first:%Y-%m}" if whole_month else f"{first.isoformat()}_{last.isoformat()}"


@flow(name="docval-report", log_prints=False, flow_run_name=report_run_name)
def report_flow(period_from: str | None = None, period_to: str | None = None, bundle: bool = True) -> dict[str, str]:
    """Report on ``[period_from, period_to]`` (ISO dates, inclusive; default: last month) into reports/out/<period>/.

    Parameters and the returned value hold dates, paths and hashes only, never document content.
    """
    settings = load_settings()
    first, last = _period(period_from, period_to)
    period = Period.from_dates(first, last)
    out = settings.resolve(settings.reports.out_dir) / period.label
    files = generate_report(settings, period, out, bundle=bundle)
    payload = ReportGeneratedPayload(
        period_from=first.isoformat(), period_to=last.isoformat(), checkpoint_size=files.checkpoint_size,
        report_sha256=files.html_sha256, pdf_sha256=files.pdf_sha256, bundle_sha256=files.zip_sha256,
    )  # fmt: skip
    seq = Ledger.open(settings).append(EntryKind.REPORT_GENERATED, doc=None, actor=REPORT_ACTOR,
                                       data=payload.model_dump(mode="json"))  # fmt: skip
    key = f"docval-report-{period.label.replace('_', '-')}"
    origin = settings.workbench.public_origin
    verdict = "COMPLETE" if files.complete else "INCOMPLETE"
    create_link_artifact(key=key, link=report_url(origin, period.label, files.html.name),
                         link_text=f"report {period.label}",
                         description=f"Auditor report, {verdict} (in the reviewer workbench; admins)")  # fmt: skip
    create_link_artifact(key=f"{key}-pdf", link=report_url(origin, period.label, files.pdf.name),
                         link_text=f"report {period.label} (PDF)",
                         description=f"SHA-256 {files.pdf_sha256}")  # fmt: skip
    if files.zip is not None:
        create_link_artifact(key=f"{key}-bundle", link=report_url(origin, period.label, files.zip.name),
                             link_text="evidence bundle", description=f"SHA-256 {files.zip_sha256}")  # fmt: skip
    get_run_logger().info("report %s written, ledger seq %d, complete=%s", period.label, seq, files.complete)
    return {"report": str(files.html), "pdf": str(files.pdf), "bundle": str(files.zip or ""), "seq": str(seq)}


def report_deployment(settings: Settings | None = None) -> RunnerDeployment:
    """The deployment ``prefect.serve`` runs: monthly by ``reports.schedule_cron``, editable in the UI, runnable now."""
    settings = settings or load_settings()
    return report_flow.to_deployment(
        name="monthly-report",
        cron=settings.reports.schedule_cron,
        description="Auditor report and evidence bundle of the previous month; run with dates for any period.",
        tags=["docval", "report"],
    )
