"""The yardsticks of the robustness benchmark: peak RSS of the worker and its children, and bare pypdf's time.

Both measure the run without taking part in it: a sampler thread polls this process and every descendant (the
sandbox pool) for their peak RSS, and bare ``pypdf`` reads the same files in a child process of its own, so a
bomb there cannot inflate our memory figure. ``python benchmarks/robustness_measure.py`` is that child: it reads
one path per line on stdin and prints one JSON number (seconds, or null) per path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["PeakRss", "baseline_seconds", "sampling"]


@dataclass
class PeakRss:
    worker: int = 0
    child: int = 0
    together: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample_forever(self, interval: float = 0.02) -> None:
        """Poll RSS of this process and every descendant (the sandbox pool) until stopped."""
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                worker = me.memory_info().rss
                children = []
                for child in me.children(recursive=True):
                    try:
                        children.append(child.memory_info().rss)
                    except psutil.Error:
                        continue
            except psutil.Error:
                continue
            self.worker = max(self.worker, worker)
            self.child = max([self.child, *children])
            self.together = max(self.together, worker + sum(children))
            self.samples += 1
            self._stop.wait(interval)


@contextmanager
def sampling() -> Iterator[PeakRss]:
    peak = PeakRss()
    thread = threading.Thread(target=peak.sample_forever, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        peak._stop.set()
        thread.join()


def baseline_child() -> None:
    """Child side: time PdfReader + extract_text over each path from stdin; one JSON number (or null) per path."""
    import signal

    import pypdf

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, expire)
    for line in sys.stdin:
        started = time.perf_counter()
        try:
            signal.alarm(60)
            reader = pypdf.PdfReader(line.rstrip("\n"), strict=False)
            for page in reader.pages:
                page.extract_text()
            seconds: float | None = time.perf_counter() - started
        except BaseException:
            seconds = None
        finally:
            signal.alarm(0)
        print(json.dumps(seconds), flush=True)


def baseline_seconds(paths: list[Path]) -> list[float | None]:
    if not paths:
        return []
    done = subprocess.run(
        [sys.executable, __file__],
        input="".join(f"{path}\n" for path in paths),
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


if __name__ == "__main__":
    baseline_child()
