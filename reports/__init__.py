"""Auditor report (HTML + PDF) and the offline-verifiable evidence bundle."""
