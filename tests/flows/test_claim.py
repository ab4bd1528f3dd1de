"""Claiming files into the work area: ids are content hashes, moves are atomic, duplicates are recognised."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from flows.claim import NotARegularFile, claim_file, claimed_in_work, release, source_name, work_pdf


def test_claim_moves_file_under_its_hash_and_keeps_the_name(tmp_path: Path) -> None:
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir(), work.mkdir()
    (inbox / "invoice 1.pdf").write_bytes(b"%PDF-1.4 one")
    claimed, fresh = claim_file(inbox / "invoice 1.pdf", work, known=lambda doc: False)
    assert fresh and claimed.doc == hashlib.sha256(b"%PDF-1.4 one").hexdigest()
    assert work_pdf(work, claimed.doc).read_bytes() == b"%PDF-1.4 one"
    assert not (inbox / "invoice 1.pdf").exists()
    assert source_name(work, claimed.doc) == "invoice 1.pdf"
    assert [c.doc for c in claimed_in_work(work)] == [claimed.doc]


def test_same_bytes_twice_is_a_duplicate_and_leaves_one_copy(tmp_path: Path) -> None:
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir(), work.mkdir()
    (inbox / "a.pdf").write_bytes(b"%PDF same")
    (inbox / "b.pdf").write_bytes(b"%PDF same")
    first, fresh_first = claim_file(inbox / "a.pdf", work, known=lambda doc: False)
    second, fresh_second = claim_file(inbox / "b.pdf", work, known=lambda doc: False)
    assert (fresh_first, fresh_second) == (True, False) and first.doc == second.doc
    assert not list(inbox.iterdir())
    assert source_name(work, first.doc) == "a.pdf"
    # after release (archived), the store still knows the id: a third copy is a duplicate too
    release(work, first.doc, tmp_path / "archive" / f"{first.doc}.pdf")
    (inbox / "c.pdf").write_bytes(b"%PDF same")
    _, fresh_third = claim_file(inbox / "c.pdf", work, known=lambda doc: doc == first.doc)
    assert not fresh_third and not claimed_in_work(work)
    assert (tmp_path / "archive" / f"{first.doc}.pdf").exists()


@pytest.mark.parametrize("make", ["fifo", "symlink", "hardlink"])
def test_entries_that_are_not_plain_files_are_refused_unread(tmp_path: Path, make: str) -> None:
    inbox, work, outside = tmp_path / "inbox", tmp_path / "work", tmp_path / "secret.pdf"
    inbox.mkdir()
    work.mkdir()
    outside.write_bytes(b"%PDF-1.4 not for docval")
    entry = inbox / "x.pdf"
    {
        "fifo": lambda: os.mkfifo(entry),
        "symlink": lambda: entry.symlink_to(outside),
        "hardlink": lambda: entry.hardlink_to(outside),
    }[make]()
    started = time.monotonic()
    with pytest.raises(NotARegularFile):
        claim_file(entry, work, known=lambda doc: False)
    assert time.monotonic() - started < 5, "a FIFO must not block the claim"
    assert list(work.iterdir()) == [] and outside.read_bytes() == b"%PDF-1.4 not for docval"


@pytest.fixture
def other_file_system(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A folder on another file system than ``tmp_path`` (tmpfs under /dev/shm), removed afterwards."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    folder = Path(tempfile.mkdtemp(dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_file_on_another_file_system_is_claimed_by_copy_then_removed(tmp_path: Path, other_file_system: Path) -> None:
    """An inbox on a mounted share, or `docval process --move` from a tmpfs: no rename reaches the work area."""
    work = tmp_path / "work"
    work.mkdir()
    (other_file_system / "scan 7.pdf").write_bytes(b"%PDF-1.4 elsewhere")
    (other_file_system / "again.pdf").write_bytes(b"%PDF-1.4 elsewhere")

    claimed, fresh = claim_file(other_file_system / "scan 7.pdf", work, known=lambda doc: False)
    again, fresh_again = claim_file(other_file_system / "again.pdf", work, known=lambda doc: False)

    assert fresh and not fresh_again and again.doc == claimed.doc == hashlib.sha256(b"%PDF-1.4 elsewhere").hexdigest()
    assert work_pdf(work, claimed.doc).read_bytes() == b"%PDF-1.4 elsewhere"
    assert oct(work_pdf(work, claimed.doc).stat().st_mode & 0o777) == "0o600"
    assert source_name(work, claimed.doc) == "scan 7.pdf"
    assert list(other_file_system.iterdir()) == [], "the originals are removed once the copy is in place"
    assert sorted(path.name for path in work.iterdir()) == [f"{claimed.doc}.pdf", f"{claimed.doc}.source"]
