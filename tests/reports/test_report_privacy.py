"""No raw PII in the report or the bundle: pii/'s leak scan (vault originals + patterns) finds nothing."""

from __future__ import annotations

from pathlib import Path

from reporthelpers import Built

from docval.settings import load_settings
from pii import PiiEngine

NAME = "Ngozi Okafor"
IBAN = "DE89 3704 0044 0532 0130 00"


def test_report_and_bundle_hold_no_personal_data(built: Built, tmp_path: Path) -> None:
    settings = load_settings(data_dir=built.settings.data_dir)
    engine = PiiEngine.from_settings(settings)
    engine.mask_text(f"Name: {NAME}\nIBAN {IBAN}", doc="a" * 64, subject="cust-report")  # the vault now knows them
    bundle = built.out / "bundle"
    scanned = [built.out / name for name in ("report.html", "report.pdf", "lineage.csv", "exceptions.csv")]
    scanned += [bundle / name for name in ("entries.jsonl", "completeness.note", "checkpoint", "manifest.json")]
    scanned += sorted((bundle / "proofs").iterdir())[:20]
    assert engine.scan(scanned) == []
    leaked = tmp_path / "leaked.html"  # positive control: the same scan flags a report that did leak
    leaked.write_text(built.files.html.read_text().replace("</body>", f"<p>{NAME} {IBAN}</p></body>"))
    assert {hit.entity for hit in engine.scan([leaked])} >= {"IBAN_CODE"}
