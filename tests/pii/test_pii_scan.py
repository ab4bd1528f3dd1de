"""Leak scan over real files: JSON, logs, DuckDB, SQLite, PDF; the vault's originals and pattern PII; never values."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from piihelpers import doc_id
from reportlab.pdfgen import canvas

from docval.settings import Settings
from pii import PiiEngine

NAME = "Ngozi Okafor"
IBAN = "DE89 3704 0044 0532 0130 00"


def _pdf(path: Path, line: str) -> None:
    page = canvas.Canvas(str(path))
    page.drawString(72, 720, line)
    page.save()


@pytest.fixture
def artifacts(settings: Settings, tmp_path: Path) -> tuple[PiiEngine, Path]:
    """A data directory whose vault knows NAME and IBAN, and a folder of artifacts, most of them clean."""
    engine = PiiEngine.from_settings(settings)
    doc = doc_id("scan")
    masked = engine.mask_text(f"Name: {NAME}\nIBAN {IBAN}", doc=doc, subject="cust-scan")
    out = tmp_path / "artifacts"
    out.mkdir()
    (out / "result.json").write_text(json.dumps({"doc": doc, "text": masked.text}))
    (out / "clean.log").write_text("2026-11-25T13:00:00Z INFO doc=abc pages=3 took 1234 ms\n" * 50)
    _pdf(out / "clean.pdf", "Invoice INV-1 total 1190.00 EUR")
    with duckdb.connect(str(out / "clean.duckdb")) as db:
        db.execute("CREATE TABLE entries (seq INT, data JSON)")
        db.execute("INSERT INTO entries VALUES (0, ?)", [json.dumps({"token": "<PERSON_1>", "n": 16})])
    return engine, out


def _leak(out: Path) -> None:
    (out / "app.log").write_text("ok\nok\n" + f"user {NAME} logged in\n" + "mail to z@example.org\n")
    with duckdb.connect(str(out / "ledger.duckdb")) as db:
        db.execute("CREATE TABLE entries (seq INT, data VARCHAR)")
        db.execute("INSERT INTO entries VALUES (0, 'x'), (1, ?)", [json.dumps({"iban": IBAN.replace(" ", "")})])
    with sqlite3.connect(out / "prefect.db") as db:
        db.execute("CREATE TABLE logs (message TEXT)")
        db.execute("INSERT INTO logs VALUES ('card 4111 1111 1111 1111 declined')")
    _pdf(out / "report.pdf", f"Reviewed for {NAME}")
    (out / "broken.duckdb").write_bytes(b"\x00" * 8 + b"DUCK" + b"\x00" * 100)


def test_clean_artifacts_have_no_hits(artifacts: tuple[PiiEngine, Path]) -> None:
    engine, out = artifacts
    assert engine.scan([out]) == []


def test_every_leak_is_found_by_file_and_type(artifacts: tuple[PiiEngine, Path]) -> None:
    engine, out = artifacts
    _leak(out)
    hits = {(hit.path.name, hit.entity, hit.source, hit.where) for hit in engine.scan([out])}
    assert hits == {
        ("app.log", "PERSON", "vault", "line 3"),
        ("app.log", "EMAIL_ADDRESS", "pattern", "line 4"),
        ("ledger.duckdb", "IBAN_CODE", "vault", "entries.data row 2"),
        ("ledger.duckdb", "IBAN_CODE", "pattern", "entries.data row 2"),
        ("prefect.db", "CREDIT_CARD", "pattern", "logs.message row 1"),
        ("report.pdf", "PERSON", "vault", "page 1"),
        ("broken.duckdb", "UNREADABLE", "scan", "IOException"),
    }


def test_the_data_directory_itself_scans_clean(artifacts: tuple[PiiEngine, Path], settings: Settings) -> None:
    """The vault (ciphertext) and the key files are skipped; nothing else under data_dir holds a value."""
    engine, _ = artifacts
    assert engine.scan([settings.data_dir]) == []


def test_cli_exits_non_zero_and_never_prints_a_value(artifacts: tuple[PiiEngine, Path]) -> None:
    _, out = artifacts
    clean = subprocess.run([sys.executable, "-m", "docval", "pii", "scan", str(out)], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    _leak(out)
    dirty = subprocess.run([sys.executable, "-m", "docval", "pii", "scan", str(out)], capture_output=True, text=True)
    assert dirty.returncode == 1
    printed = dirty.stdout + dirty.stderr
    assert "app.log: line 3: PERSON [vault]" in printed
    for value in (NAME, IBAN, IBAN.replace(" ", ""), "z@example.org", "4111"):
        assert value not in printed
