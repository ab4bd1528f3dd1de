"""Claiming: from a file in ``inbox/`` to ``work/<sha256>.pdf``, exactly once per distinct content.

The document id is the SHA-256 of the bytes, so the same bytes dropped twice
are one document. The move into the work area is an atomic ``rename`` on the
same file system: a file is either still in the inbox or fully claimed, never
half (from another file system: a copy renamed into place, then the original
removed; ``_claim_across``). The inbox name is written to a sidecar first (``work/<id>.source``),
because after the rename it is the only place the name survives a crash.
Nothing here talks to Prefect; the watcher and the batch command both call it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "Claimed",
    "NotARegularFile",
    "atomic_write",
    "claim_file",
    "claimed_again",
    "claimed_in_work",
    "hash_file",
    "release",
    "source_name",
    "work_pdf",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Claimed:
    doc: str
    source: str
    size: int
    owner: int | None = None  # uid owning the file when claimed: who made it (``flows.makers``)
    folder: str | None = None  # ``<person>`` of ``inbox/<person>/``, set by the worker that knows the inbox


class NotARegularFile(OSError):
    """An inbox entry that is not a plain file of its own: quarantined unread.

    A FIFO would block the reader forever; a symlink or a hard link would let
    whoever can write the inbox make docval read (and archive) a file from
    anywhere else on the machine.
    """


def hash_file(path: Path, copy_to: Path | None = None) -> tuple[str, int]:
    """SHA-256 and size of ``path``, refusing anything but a plain file of its own; ``copy_to``: also a 0600 copy
    of exactly the bytes hashed, fsynced (``_claim_across``)."""
    with contextlib.ExitStack() as stack:
        out = None
        if copy_to is not None:
            out = stack.enter_context(os.fdopen(os.open(copy_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb"))
        found = _hash(path, out)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    return found


def _hash(path: Path, out: BinaryIO | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        # O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "symbolic link", path.name) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(errno.EINVAL, "not a regular file", path.name)
        if info.st_nlink > 1:
            raise NotARegularFile(errno.EMLINK, "hard link to a file elsewhere", path.name)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    return digest.hexdigest(), size


def work_pdf(work_dir: Path, doc: str) -> Path:
    return work_dir / f"{doc}.pdf"


def _sidecar(work_dir: Path, doc: str) -> Path:
    return work_dir / f"{doc}.source"


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary sibling (0600) and rename, so readers (and a restart) never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def claim_file(path: Path, work_dir: Path, *, known: Callable[[str], bool]) -> tuple[Claimed, bool]:
    """Move ``path`` into the work area; the flag is False when these bytes were claimed before (a duplicate).

    ``known(doc)`` asks the document store. A duplicate's inbox copy is removed: the same bytes are
    already held under their id. Raises OSError if the file cannot be read; the caller quarantines it.
    """
    info = path.lstat()
    owner = info.st_uid
    if info.st_dev != work_dir.stat().st_dev:
        return _claim_across(path, work_dir, owner, known)
    claimed, new = _into_work(path, path, hash_file(path), owner, work_dir, known)
    if new:
        with contextlib.suppress(PermissionError):  # someone else's file: the 0700 folders still keep others out
            work_pdf(work_dir, claimed.doc).chmod(0o600)
    return claimed, new


def _claim_across(path: Path, work_dir: Path, owner: int, known: Callable[[str], bool]) -> tuple[Claimed, bool]:
    """``claim_file`` for a file on another file system (an inbox on a mounted share, ``docval process --move``
    from a tmpfs), where no rename reaches the work area: the bytes are copied in, fsynced and renamed into place,
    and only then is the original removed. A crash in between leaves both; the original's next claim finds the
    work area's copy and records a duplicate, so the document is still processed once."""
    tmp = work_dir / f".incoming.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        hashed = hash_file(path, copy_to=tmp)
        with contextlib.suppress(PermissionError):  # as a rename would: the owner names the maker after a crash
            os.chown(tmp, owner, -1)
        claimed, new = _into_work(path, tmp, hashed, owner, work_dir, known)
    finally:
        tmp.unlink(missing_ok=True)
    if new:
        path.unlink()
    return claimed, new


def _into_work(
    path: Path, moving: Path, hashed: tuple[str, int], owner: int, work_dir: Path, known: Callable[[str], bool]
) -> tuple[Claimed, bool]:
    """Under its id: ``moving`` (the inbox file, or its copy) renamed into the work area after its sidecar, or,
    when these bytes were claimed before, the inbox file ``path`` removed instead."""
    doc, size = hashed
    target = work_pdf(work_dir, doc)
    claimed = Claimed(doc=doc, source=path.name, size=size, owner=owner)
    if target.exists() or known(doc):
        path.unlink(missing_ok=True)
        return claimed, False
    atomic_write(_sidecar(work_dir, doc), path.name.encode("utf-8", "surrogateescape"))
    os.rename(moving, target)
    return claimed, True


def source_name(work_dir: Path, doc: str) -> str:
    """The inbox file name of a claimed document (its id if the sidecar is gone)."""
    try:
        return _sidecar(work_dir, doc).read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return f"{doc}.pdf"


def claimed_again(work_dir: Path, doc: str) -> Claimed:
    """A document found in ``work/`` without its ``doc.claimed`` entry (its claim died between rename and record)."""
    info = work_pdf(work_dir, doc).stat()
    return Claimed(doc=doc, source=source_name(work_dir, doc), size=info.st_size, owner=info.st_uid)


def claimed_in_work(work_dir: Path) -> list[Claimed]:
    """Documents sitting in the work area, e.g. after a crash: each must be resumed, none lost."""
    found = []
    for pdf in sorted(work_dir.glob("*.pdf")):
        doc = pdf.stem
        if len(doc) == 64 and all(c in "0123456789abcdef" for c in doc):
            try:
                info = pdf.stat()  # a rename keeps the owner: the maker survives a crash (its inbox folder does not)
            except FileNotFoundError:  # finished by a run of another worker while we listed
                continue
            found.append(Claimed(doc=doc, source=source_name(work_dir, doc), size=info.st_size, owner=info.st_uid))
    return found


def release(work_dir: Path, doc: str, destination: Path) -> None:
    """Move a finished document out of the work area (archive or quarantine) and drop its sidecar."""
    source = work_pdf(work_dir, doc)
    if source.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
    _sidecar(work_dir, doc).unlink(missing_ok=True)
