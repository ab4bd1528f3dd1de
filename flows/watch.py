"""The watched inbox: which files are complete and may be claimed.

Prefect has no folder trigger, so this is ours. watchdog reports files as they
appear or change; a file counts as complete once its size and mtime have not
changed for ``stable_seconds`` (a copy in progress keeps changing). Events can
be lost (a full inotify queue when 500 files land at once), so the folder is
also rescanned every few seconds; files already present at start are found by
the first scan.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

__all__ = ["InboxWatcher"]

RESCAN_SECONDS = 5.0


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

    def __enter__(self) -> InboxWatcher:
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._observer.schedule(self, str(self.inbox), recursive=False)
        self._observer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        moved = event.event_type == "moved" and event.dest_path
        path = Path(str(event.dest_path if moved else event.src_path))
        if not event.is_directory and path.parent == self.inbox:
            with self._lock:
                self._candidates.add(path)

    def ready(self, now: float | None = None) -> list[Path]:
        """Files whose size and mtime have been stable for ``stable_seconds``; each returned once."""
        now = time.monotonic() if now is None else now
        if now - self._last_scan >= RESCAN_SECONDS:
            self._last_scan = now
            with self._lock:
                self._candidates.update(path for path in self.inbox.iterdir() if path.is_file())
        with self._lock:
            candidates, self._candidates = self._candidates, set()
        candidates |= set(self._seen)
        stable = []
        for path in sorted(candidates):
            if path.name.startswith("."):
                continue  # editors' and our own temporary files
            try:
                stat = path.stat()
            except FileNotFoundError:
                self._seen.pop(path, None)
                continue
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            elif now - seen.since >= self.stable_seconds:
                del self._seen[path]
                stable.append(path)
        return stable

    @property
    def waiting(self) -> int:
        """Files seen but not yet stable."""
        return len(self._seen)
