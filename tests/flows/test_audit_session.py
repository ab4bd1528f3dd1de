"""A batch's ledger session (``flows.audit.Audit.session``): its stages' entries, the reads between them and the
batch's signature on one held connection instead of one opened and closed each (~23 of a record's ~35 ms).

Real DuckDB files and real signatures; the file opens are counted where the ledger makes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger.log
import ledger.writer
from docval.db import connect
from docval.events import ClaimedPayload, EntryKind
from docval.settings import Settings
from flows.audit import Audit, Draft
from ledger import Ledger
from ledger.keys import init_keys

DOCS = [f"{index:064x}" for index in range(1, 4)]


@pytest.fixture
def audit(settings: Settings) -> Audit:
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    return Audit(settings)


def _opens(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every connection the ledger opens from now on (its short ones and a writer session's)."""
    opened: list[Path] = []
    for module in (ledger.log, ledger.writer):
        real = module.connect

        def counting(path: Path, *, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            opened.append(path)
            return _real(path, **kwargs)

        monkeypatch.setattr(module, "connect", counting)
    return opened


def _stages(audit: Audit) -> tuple[dict[str, str], int]:
    """What a batch does to the ledger: a claim per document, then a record per stage, the reads, a signature."""
    audit.record([Draft(EntryKind.CLAIMED, doc, "erin", ClaimedPayload(source_hash="h", size=1)) for doc in DOCS])
    for kind in (EntryKind.INGESTED, EntryKind.EXTRACTED, EntryKind.VALIDATED):
        audit.record([Draft(kind, doc, "worker", ClaimedPayload(source_hash="h", size=1)) for doc in DOCS])
    makers = audit.makers(DOCS)
    histories = audit.histories(DOCS)
    audit.checkpoint()
    return makers, sum(len(entries) for entries in histories.values())


def test_a_batch_opens_the_ledger_once(settings: Settings, audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _opens(monkeypatch)
    with audit.session():
        makers, entries = _stages(audit)
    assert opened == [settings.ledger_db]
    assert makers == dict.fromkeys(DOCS, "erin") and entries == 4 * len(DOCS)


def test_without_a_session_each_step_opens_it(audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _opens(monkeypatch)
    _stages(audit)
    assert len(opened) >= 7


def test_after_the_session_the_batch_is_signed_and_the_lock_is_free(settings: Settings, audit: Audit) -> None:
    with audit.session():
        _stages(audit)
    with connect(settings.ledger_db, write=True, timeout=0.5):  # another writer gets in at once
        pass
    report = Ledger.open(settings).verify()
    assert report.ok and report.unsigned == 0 and report.size == 4 * len(DOCS)
