"""Auditor report (HTML + PDF) and the offline-verifiable evidence bundle.

Reads the ledger and the document store, never reprocesses and never writes
either: ``generate_report`` turns a period's ledger entries into
``report.html``/``report.pdf`` and, with ``bundle=True``, the evidence bundle
of DESIGN.md that ``verify.py`` checks offline.
"""

from docval.lazy import lazy_exports

_EXPORTS = {
    "Kpis": "reports.kpis",
    "Period": "reports.generate",
    "ReportError": "reports.errors",
    "ReportFiles": "reports.generate",
    "compute_kpis": "reports.kpis",
    "fold_entries": "reports.lineage",
    "generate_report": "reports.generate",
    "kpi_rows": "reports.kpis",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
