"""`docval report` from the shell, the store cross-check, and the benchmark's small version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reporthelpers import REPO_ROOT, period_args, run_period

from docval.domain import DocState
from docval.settings import Settings
from docval.store import DocumentStore
from ledger import Ledger, init_keys
from reports import generate_report


def docval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *args], capture_output=True, text=True, timeout=300)


def test_report_command_writes_report_and_bundle(settings: Settings, filled: Ledger) -> None:
    period = run_period()
    result = docval("report", *period_args(period), "--bundle")
    assert result.returncode == 0, result.stderr
    out = settings.resolve(settings.reports.out_dir) / period.label
    assert (out / "report.html").exists() and (out / "report.pdf").exists() and (out / "bundle.zip").exists()
    assert "completeness: COMPLETE" in result.stdout


def test_bad_period_and_empty_ledger_are_one_line_errors(settings: Settings, tmp_path: Path) -> None:
    result = docval("report", "--from", "2026-11-30", "--to", "2026-11-01", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: period ends (2026-11-01) before it starts (2026-11-30)"
    )
    init_keys(settings.keys_dir, settings.ledger.key_name)
    result = docval("report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "no signed checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_store_disagreeing_with_the_ledger_is_shown_as_a_failure(
    settings: Settings, filled: Ledger, tmp_path: Path
) -> None:
    store = DocumentStore(settings.store_db)
    docs = sorted({entry.doc for entry in filled.entries() if entry.kind == "doc.published"})
    for doc in docs:
        store.claim(doc, "h")
        store.update(doc, state=DocState.PUBLISHED)
    store.update(docs[0], state=DocState.REJECTED)
    files = generate_report(settings, run_period(), tmp_path / "out")
    assert not files.complete
    html = files.html.read_text()
    assert f"document {docs[0][:16]}: store says rejected, ledger says published" in html
    assert "is in the ledger but not in the store" in html  # the quarantined/rejected ones were never stored


def test_benchmark_small_version_runs() -> None:
    """The figures are printed; bars are asserted by the bundle tests (best of three), not on a busy machine here."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "report_bench.py"), "--docs", "300", "--no-full-verify"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert "300 docs" in result.stdout and "report+bundle" in result.stdout and "--doc" in result.stdout
    assert "root only: report+bundle" in result.stdout and "3 shards: report+bundle" in result.stdout
    assert "3 shards vs root only: report+bundle wall" in result.stdout
