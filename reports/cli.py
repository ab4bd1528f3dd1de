"""``docval report``: the auditor report for a period, and with ``--bundle`` the evidence bundle."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    first: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day of the period (UTC).")],
    last: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of the period, inclusive.")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder; default <data_dir>/<reports.out_dir>/<period>.")
    ] = None,
    bundle: Annotated[bool, typer.Option("--bundle", help="Also write the evidence bundle and its zip.")] = False,
    previous_checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint of an earlier report: adds a consistency proof to the bundle.")
    ] = None,
) -> None:
    """Write report.html and report.pdf (and the evidence bundle) from the ledger, read-only."""
    from docval.settings import load_settings
    from reports.generate import Period, generate_report

    settings = load_settings()
    period = Period.from_dates(first.date(), last.date())
    target = out or settings.resolve(settings.reports.out_dir) / period.label
    files = generate_report(settings, period, target, bundle=bundle, previous_checkpoint=previous_checkpoint)
    typer.echo(f"report: {files.html} ({files.html_sha256[:16]}), {files.pdf}")
    if files.zip is not None:
        typer.echo(f"bundle: {files.bundle}, {files.zip} ({files.zip_sha256})")
    typer.echo(
        f"completeness: {'COMPLETE' if files.complete else 'INCOMPLETE'} at checkpoint size {files.checkpoint_size}"
    )
    if not files.complete:
        raise typer.Exit(1)
