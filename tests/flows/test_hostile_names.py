"""Hostile inbox names through ``docval process --wait``, ``pending`` and ``report`` on a real Prefect server.

Whoever can write the inbox chooses the names: bytes that are not UTF-8 (they
used to crash the keyed hasher and retry their whole batch for ever), a newline
that forges a table row, ANSI CSI/OSC sequences that rewrite the terminal, the
longest name a file system allows, and names that carry personal data. Each
must end up escaped, pseudonymised and without holding up its batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flowcheck import docval, sample_folder

from docval.events import EntryKind
from docval.settings import Settings
from ledger import Ledger

EMAIL = "max.mustermann@example.com"
IBAN = "DE89370400440532013000"
PII_NAME = f"kyc for {EMAIL} IBAN {IBAN}.pdf"
NEWLINE_NAME = "line1\nforged-row  published.pdf"
ESCAPE_NAME = "csi \x1b[2J\x1b[31mred\x1b[0m osc \x1b]0;pwned\x07 bel\x07 del\x7f bidi \u202efdp.pdf"
LONG_NAME = "a" * 251 + ".pdf"  # 255 bytes: the longest name ext4 allows


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("samples"))


def _visible(text: str) -> bool:
    """Nothing a terminal would interpret: no control, format or separator characters except line ends."""
    return all(char == "\n" or unicodedata.category(char) not in {"Cc", "Cf", "Zl", "Zp"} for char in text)


def _copy(samples: Path, sample: str, target: Path) -> str:
    shutil.copy(samples / sample, target)
    return hashlib.sha256(target.read_bytes()).hexdigest()


def test_undecodable_names_are_quarantined_alone_and_their_batch_finishes(
    flow_settings: Settings, samples: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    good = {_copy(samples, name, batch / name) for name in ("invoice-001.pdf", "invoice-015.pdf")}
    bad = [os.fsdecode(b"scan-\xff\xfe.pdf"), os.fsdecode(b"\xff" * 251 + b".pdf")]  # the second: 255 bytes
    for name, sample in zip(bad, ("invoice-003-bad-iban.pdf", "invoice-004-total-mismatch.pdf"), strict=True):
        _copy(samples, sample, batch / name)

    run = docval("process", str(batch), "--wait")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("(UNDECODABLE_NAME); quarantined") == 2 and "not claimed: scan-\\xff\\xfe.pdf" in run.stdout
    assert {path.stem for path in flow_settings.outbox.glob("*.json")} == good
    assert len(list(batch.iterdir())) == 4, "the given files stay where they are (copied, not moved)"
    assert not list(flow_settings.work_dir.glob("*.pdf"))
    quarantined = [e for e in Ledger.open(flow_settings).entries() if e.kind == EntryKind.QUARANTINED]
    refused = [(e.doc, e.data["reason"], e.data["stage"]) for e in quarantined]
    assert refused == [(None, "UNDECODABLE_NAME", "claim")] * 2
    notes = [json.loads(p.read_text()) for p in flow_settings.quarantine_dir.glob("undecodable_name-*.reason.json")]
    assert "scan-\\xff\\xfe.pdf" in [note["source"] for note in notes]  # escaped, so the operator can find it
    assert all(note[key].isprintable() for note in notes for key in ("file", "source"))
    kept = [p for p in flow_settings.quarantine_dir.iterdir() if not p.name.endswith(".reason.json")]
    assert len(kept) == 2, "the quarantined files are kept, not lost"
    assert _visible(run.stderr) and _visible(run.stdout)


def test_names_with_escapes_and_personal_data_are_escaped_and_masked_everywhere(
    flow_settings: Settings, samples: Path, tmp_path: Path
) -> None:
    from pii import PiiEngine
    from pii.vault import doc_subject

    batch = tmp_path / "batch"
    batch.mkdir()
    names = {PII_NAME: "kyc-002.pdf", NEWLINE_NAME: "invoice-001.pdf", ESCAPE_NAME: "invoice-015.pdf"}
    names[LONG_NAME] = "invoice-003-bad-iban.pdf"
    docs = {name: _copy(samples, sample, batch / name) for name, sample in names.items()}

    first = datetime.now(UTC).strftime("%Y-%m-%d")  # before the run: it may cross midnight
    run = docval("process", str(batch), "--wait")
    pending = docval("pending")
    last = datetime.now(UTC).strftime("%Y-%m-%d")
    report = docval("report", "--from", first, "--to", last, "--out", str(tmp_path / "report"))

    assert run.returncode == 0, run.stdout + run.stderr
    assert pending.returncode == 0, pending.stdout + pending.stderr
    assert report.returncode == 0, report.stdout + report.stderr
    for output in (run.stdout, run.stderr, pending.stdout, pending.stderr, report.stdout, report.stderr):
        assert _visible(output), output
    assert len(run.stdout.splitlines()) == 1 + len(names) + 1, run.stdout  # header, one row each, count
    records = {name: json.loads((flow_settings.outbox / f"{doc}.json").read_text()) for name, doc in docs.items()}
    waiting = {docs[name][:12] for name, record in records.items() if record["state"] == "awaiting_approval"}
    rows = pending.stdout.splitlines()[1:]
    assert docs[PII_NAME][:12] in waiting and sorted(row[:12] for row in rows) == sorted(waiting), pending.stdout

    sources = {name: record["source"] for name, record in records.items()}
    assert sources[LONG_NAME] == LONG_NAME
    assert sources[NEWLINE_NAME].startswith("line1\\x0aforged-row")
    assert "\\x1b]0;pwned\\x07" in sources[ESCAPE_NAME] and "\\u202e" in sources[ESCAPE_NAME]
    assert EMAIL not in sources[PII_NAME] and IBAN not in sources[PII_NAME]
    assert all(source.isprintable() for source in sources.values())

    engine = PiiEngine.from_settings(flow_settings)
    assert {EMAIL, IBAN} <= set(engine.vault.known(doc_subject(docs[PII_NAME])))  # the originals stay recoverable
    shown_dir = flow_settings.data_dir / "shown"
    shown_dir.mkdir()
    for label, text in {"process": run.stdout + run.stderr, "pending": pending.stdout + pending.stderr}.items():
        (shown_dir / f"{label}.txt").write_text(text)
    reasons = sorted(flow_settings.quarantine_dir.glob("*.reason.json"))
    hits = engine.scan([flow_settings.outbox, shown_dir, tmp_path / "report", *reasons])
    assert [hit for hit in hits if hit.source == "vault"] == [], [str(hit) for hit in hits]
    assert not [hit for hit in hits if hit.entity in {"EMAIL_ADDRESS", "IBAN_CODE"}], [str(hit) for hit in hits]
