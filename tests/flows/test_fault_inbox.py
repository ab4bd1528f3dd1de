"""Inbox leftovers: a file that keeps growing, a hidden file, a dangling symlink.

The watcher test uses a real writer process and polls ``InboxWatcher.ready`` as the worker does (~4 s).
The worker test runs the real worker loop (thread, session Prefect server, ~15 s) over all three:
the growing file is claimed once, with its final bytes; the hidden file stays, named once in the log;
the dangling symlink is quarantined with a reason and a ledger entry instead of sitting there forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once, running_worker, wait_for

from docval.events import EntryKind
from docval.settings import Settings, load_settings
from flows.watch import InboxWatcher
from ledger import Ledger

_WRITER = (
    "import sys, time\n"
    "data = open(sys.argv[1], 'rb').read(); step = len(data) // 20 + 1\n"
    "with open(sys.argv[2], 'wb') as out:\n"
    "    for i in range(0, len(data), step):\n"
    "        out.write(data[i:i + step]); out.flush(); time.sleep(float(sys.argv[3]))\n"
)


def _grow(source: Path, target: Path, pause: float) -> subprocess.Popen[bytes]:
    """A separate process copying ``source`` to ``target`` in 20 slow pieces, like an upload."""
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(source), str(target), str(pause)])


def test_watcher_never_offers_a_growing_file_and_offers_it_once_stable(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    source = tmp_path / "source.bin"
    source.write_bytes(b"%PDF-1.4\n" + b"x" * 40_000)
    with InboxWatcher(inbox, stable_seconds=0.5) as watcher:
        writer = _grow(source, inbox / "upload.pdf", pause=0.1)
        offered: list[tuple[float, list[Path]]] = []
        while writer.poll() is None:
            offered.append((time.monotonic(), watcher.ready()))
            time.sleep(0.05)
        finished = time.monotonic()
        assert not [paths for _, paths in offered if paths], "offered while still being written"
        deadline = finished + 10
        while not (ready := watcher.ready()):
            assert time.monotonic() < deadline, "a stable file was never offered"
            time.sleep(0.05)
        assert ready == [inbox / "upload.pdf"]
        assert time.time() - (inbox / "upload.pdf").stat().st_mtime >= 0.5, "offered before it was stable"
        assert (inbox / "upload.pdf").read_bytes() == source.read_bytes()
        time.sleep(0.6)
        assert watcher.ready() == [], "offered twice"


def test_worker_claims_growing_file_once_logs_hidden_file_quarantines_dangling_symlink(
    flow_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from extractors.samples import write_sample_inbox
    from flows.batch import worker_context

    monkeypatch.setenv("DOCVAL_FLOWS__STABLE_SECONDS", "1.0")  # well above the writer's pauses, even under load
    worker_context.cache_clear()
    ctx = worker_context()
    settings = load_settings()
    (sample,) = write_sample_inbox(tmp_path / "samples", count=1)
    source = tmp_path / "samples" / sample.file
    doc = hashlib.sha256(source.read_bytes()).hexdigest()
    hidden = settings.inbox / ".upload.pdf.partial"
    hidden.write_bytes(b"%PDF-1.4 half an upload")
    dangling = settings.inbox / "gone.pdf"
    dangling.symlink_to(tmp_path / "deleted-long-ago.pdf")
    with caplog.at_level(logging.WARNING), running_worker(ctx) as worker:
        writer = _grow(source, settings.inbox / sample.file, pause=0.1)
        assert writer.wait(60) == 0
        wait_for(lambda: (settings.outbox / f"{doc}.json").exists(), "the grown file was not processed")
        wait_for(lambda: not dangling.is_symlink(), "the dangling symlink is still in the inbox")
        time.sleep(6)  # past one full rescan: the hidden file must not be logged again
        assert not worker.backlog
    assert_exactly_once(settings, {doc})
    claims = [entry for entry in Ledger.open(settings).entries() if entry.kind == EntryKind.CLAIMED]
    assert [entry.doc for entry in claims] == [doc], "claimed before it was complete"
    quarantined = [entry for entry in Ledger.open(settings).entries() if entry.kind == EntryKind.QUARANTINED]
    assert [(e.doc, e.data["reason"], e.data["stage"]) for e in quarantined] == [(None, "UNREADABLE", "claim")]
    (reason,) = settings.quarantine_dir.glob("unreadable-*gone.pdf.reason.json")
    assert json.loads(reason.read_text())["detail"] == "NotARegularFile"
    assert hidden.read_bytes() == b"%PDF-1.4 half an upload"  # left alone, never claimed
    lines = [r.getMessage() for r in caplog.records if "hidden file ignored" in r.getMessage()]
    assert len(lines) == 1 and f"inode {hidden.stat().st_ino}" in lines[0] and ".upload" not in lines[0], lines
