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
