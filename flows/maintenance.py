"""Housekeeping flows: sign ledger checkpoints, sweep expired originals, evaluate extraction on demand.

All are served deployments with schedules the operator can edit in the
Prefect UI. They take no parameters that could carry content.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow

from docval.settings import load_settings
from flows.audit import Audit

__all__ = ["extraction_eval", "ledger_checkpoint", "retention_sweep"]


@flow(name="ledger-checkpoint", persist_result=False, log_prints=False)
def ledger_checkpoint() -> None:
    """Sign a checkpoint over the entries appended since the last one (a batch, not every entry)."""
    Audit(load_settings()).checkpoint()


@flow(name="retention-sweep", persist_result=False, log_prints=False)
def retention_sweep() -> int:
    """Delete archived originals older than ``flows.retention_days``; the ledger and outbox stay. Returns a count."""
    settings = load_settings()
    cutoff = time.time() - settings.flows.retention_days * 86400
    removed = 0
    for original in settings.archive_dir.glob("*.pdf"):
        if original.stat().st_mtime < cutoff:
            original.unlink(missing_ok=True)
            removed += 1
    return removed


@flow(name="extraction-eval", persist_result=False, log_prints=False)
def extraction_eval(dataset: str, routed: bool = True) -> dict[str, float | int | str]:
    """Score extraction on a labelled corpus folder (on demand from the UI); figures only, report saved as JSON."""
    from extractors.evaluate import report_path, run_eval, save_report

    settings = load_settings()
    report = run_eval(Path(dataset), settings, routed=routed, einvoice=True)
    path = report_path(settings, report, "last")
    save_report(report, path)
    return {"report": str(path), "documents": report.documents, **report.overall}
