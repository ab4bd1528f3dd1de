"""``docval eval --corrections``: reviewers' corrections, kept as vault labels, score the current extractors.

Real parts: a real data directory, the real PII vault (AES-GCM under the subject's data key), a real invoice
PDF as the kept original, the real rules extractors, and crypto-shredding by ``Vault.erase``. The labels are
stored with ``Vault.store_label``, as the workbench's signed correction does (tests/workbench/test_browser.py
checks that a correction made in the browser lands there).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from docval.settings import Settings
from extractors import cli as extractors_cli
from pii.engine import PiiEngine
from pii.vault import doc_subject

DOC = "c0" * 32


def _eval(*args: str) -> str:
    app = typer.Typer()
    extractors_cli.register(app)
    result = CliRunner().invoke(app, ["eval", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_corrections_score_the_extractors_until_the_subject_is_erased(settings: Settings, shared_data: Path) -> None:
    pdf = shared_data / "invoices-invoice2data" / "compare" / "AmazonWebServices.pdf"
    shutil.copyfile(pdf, settings.archive_dir / f"{DOC}.pdf")  # decided: the original is archived
    vault = PiiEngine.from_settings(settings).vault
    vault.store_label(DOC, "grand_total", "4.11")  # what the invoice prints: the extractors read it
    vault.store_label(DOC, "invoice_number", "42183018")  # a reviewer's value the extractors do not read
    vault.store_label("d1" * 32, "grand_total", "9.99")  # a corrected document whose original retention removed

    shown = _eval("--corrections", "--no-einvoice")
    assert "corrections: 1 documents" in shown and "1 corrected document(s) left out" in shown
    report = json.loads((settings.data_dir / "eval" / "corrections-rules.last.json").read_text())
    assert report["fields"]["grand_total"]["accuracy"] == 1.0
    assert report["fields"]["invoice_number"]["accuracy"] == 0.0
    assert "42183018" not in json.dumps(report)  # the report holds figures, never the labels

    vault.store_label(DOC, "invoice_number", "42183017")  # corrected again: the latest value is the label
    _eval("--corrections", "--no-einvoice")
    report = json.loads((settings.data_dir / "eval" / "corrections-rules.last.json").read_text())
    assert report["overall"]["accuracy"] == 1.0

    vault.erase(doc_subject(DOC))  # the document's data subject is erased: its labels go with its pseudonyms
    assert DOC not in vault.labels()
    assert "corrections: nothing to score" in _eval("--corrections")


def test_a_corpus_folder_or_corrections_not_both_nor_neither(settings: Settings, shared_data: Path) -> None:
    app = typer.Typer()
    extractors_cli.register(app)
    for args in (["eval"], ["eval", str(shared_data / "invoices-invoice2data"), "--corrections"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "one of the two" in result.output
