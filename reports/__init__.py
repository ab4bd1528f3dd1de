"""Auditor report (HTML + PDF) and the offline-verifiable evidence bundle.

Reads the ledger and the document store, never reprocesses and never writes
either: ``generate_report`` turns a period's ledger entries into
``report.html``/``report.pdf`` and, with ``bundle=True``, the evidence bundle
of DESIGN.md that ``verify.py`` checks offline.
"""

from reports.errors import ReportError
from reports.generate import Period, ReportFiles, generate_report
from reports.kpis import Kpis, compute_kpis, kpi_rows
from reports.lineage import fold_entries

__all__ = [
    "Kpis",
    "Period",
    "ReportError",
    "ReportFiles",
    "compute_kpis",
    "fold_entries",
    "generate_report",
    "kpi_rows",
]
