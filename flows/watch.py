"""The watched inbox: which files are complete and may be claimed.

Prefect has no folder trigger, so this is ours. watchdog reports files as they
appear or change; a file counts as complete once its size and mtime have not
changed for ``stable_seconds`` (a copy in progress keeps changing). Events can
be lost (a full inotify queue when 500 files land at once), so the folder is
also rescanned every few seconds; files already present at start are found by
the first scan.

Nothing in the inbox is left silently: entries are seen with ``lstat``, so a
symlink (dangling or not) or a FIFO reaches the claim, which quarantines it
unread. Hidden files (a leading dot: what rsync, editors and browsers write
before renaming) are never claimed, and each is named once in the log (by
inode: file names may carry personal data) so an operator can find it.
"""

from __future__ import annotations

import logging
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

__all__ = ["InboxWatcher", "inbox_entries"]

log = logging.getLogger(__name__)

RESCAN_SECONDS = 5.0


def inbox_entries(inbox: Path) -> list[Path]:
    """What may be claimed: every entry but folders and hidden files, links and special files included.

    Files in per-person folders (``inbox/<person>/``, one level, ``flows.makers``) count too.
    """
    found = []
    for path in _listing(inbox):
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if path.name.startswith("."):
            continue
        if stat.S_ISDIR(mode):
            found += [entry for entry in _listing(path) if _claimable(entry)]
        else:
            found.append(path)
    return found


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):  # removed while we looked
        return []


def _claimable(path: Path) -> bool:
    try:
        return not stat.S_ISDIR(path.lstat().st_mode) and not path.name.startswith(".")
    except FileNotFoundError:
        return False


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class InboxWatcher(FileSystemEventHandler):
    def __init__(self, inbox: Path, stable_seconds: float) -> None:
        self.inbox = inbox
        self.stable_seconds = stable_seconds
        self._candidates: set[Path] = set()
        self._seen: dict[Path, _Seen] = {}
        self._lock = threading.Lock()
        self._observer = Observer()
        self._last_scan = 0.0
        self._hidden: set[Path] = set()

    def __enter__(self) -> InboxWatcher:
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._observer.schedule(self, str(self.inbox), recursive=True)  # per-person folders
        self._observer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        moved = event.event_type == "moved" and event.dest_path
        path = Path(str(event.dest_path if moved else event.src_path))
        if not event.is_directory and self.inbox in (path.parent, path.parent.parent):
            with self._lock:
                self._candidates.add(path)

    def ready(self, now: float | None = None) -> list[Path]:
        """Files whose size and mtime have been stable for ``stable_seconds``; each returned once."""
        now = time.monotonic() if now is None else now
        if now - self._last_scan >= RESCAN_SECONDS:
            self._last_scan = now
            self._log_hidden()
            with self._lock:
                self._candidates.update(inbox_entries(self.inbox))
        with self._lock:
            candidates, self._candidates = self._candidates, set()
        candidates |= set(self._seen)
        stable = []
        for path in sorted(candidates):
            if path.name.startswith("."):
                continue  # temporary files of copy tools and editors; named once in the log by _log_hidden
            try:
                info = path.lstat()  # a symlink is judged by itself: the claim quarantines it unread
            except FileNotFoundError:
                self._seen.pop(path, None)
                continue
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (info.st_size, info.st_mtime_ns):
                self._seen[path] = _Seen(info.st_size, info.st_mtime_ns, now)
            elif now - seen.since >= self.stable_seconds:
                del self._seen[path]
                stable.append(path)
        return stable

    def _log_hidden(self) -> None:
        """Name each hidden inbox file once, so nothing sits there unnoticed (it is never claimed)."""
        hidden = {path for path in self.inbox.iterdir() if path.name.startswith(".")}
        for path in sorted(hidden - self._hidden):
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            log.warning(
                "inbox: hidden file ignored (inode %d, %d bytes): names starting with '.' are never claimed; "
                "rename it without the dot to process it",
                info.st_ino,
                info.st_size,
            )
        self._hidden = hidden

    @property
    def waiting(self) -> int:
        """Files seen but not yet stable."""
        return len(self._seen)
