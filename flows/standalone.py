"""``docval process PATH… --wait`` as a batch job on a machine where nothing else runs.

Scripts and cron jobs call it without the appliance: when no Prefect server
answers at the configured URL, a temporary one is started on a free
127.0.0.1 port with its home (and ``prefect.db``) under the data directory,
and stopped when the batch is done. A temporary server rather than Prefect's
ephemeral mode: it starts about as fast (benchmarks/README.md), its log lands
in ``prefect/server.log``, and it is stopped by us, not at interpreter exit.

The given files are the user's: they are copied into the work area's staging
folder (same file system, so claiming a copy is still an atomic rename) and
left where they are, unless ``--move`` hands them over as the inbox does.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from docval.names import shown
from docval.settings import Settings
from flows.errors import FlowError

__all__ = ["input_files", "prefect_for_batch", "progress", "staged"]


def input_files(paths: list[Path]) -> list[Path]:
    """The files named, and the files directly inside the folders named; a path that is neither is an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(entry for entry in path.iterdir() if entry.is_file())
        elif path.is_file():
            files.append(path)
        else:
            what = "no such file or folder" if not path.exists() else "not a regular file"
            raise FlowError(f"{shown(str(path))}: {what}; give PDF files or folders holding them")
    return files


@contextmanager
def staged(files: list[Path], work_dir: Path, *, move: bool) -> Iterator[list[Path]]:
    """Copies of ``files`` to claim (removed on exit, originals untouched), or the files themselves with ``move``."""
    if move:
        yield files
        return
    staging = Path(tempfile.mkdtemp(prefix=".copies-", dir=work_dir))
    try:
        copies = []
        for index, path in enumerate(files):
            target = staging / str(index) / path.name  # one folder each: equal names from two folders stay apart
            target.parent.mkdir()
            shutil.copyfile(path, target)
            copies.append(target)
        yield copies
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def prefect_for_batch(settings: Settings) -> Iterator[Callable[[], None]]:
    """The configured Prefect server if it answers, else a temporary local one for the block.

    Yields ``ready``, which blocks until the server answers: a temporary server takes seconds to start, and the
    caller loads its models meanwhile on the other core instead of waiting first (benchmarks/README.md,
    process_bench). Must run before Prefect is imported: the client reads ``PREFECT_API_URL`` once.
    """
    from flows.env import apply_prefect_env, free_port
    from flows.server import PrefectServer, server_healthy

    if server_healthy(settings.flows.prefect_api_url):
        yield lambda: None
        return
    url = f"http://127.0.0.1:{free_port()}/api"
    apply_prefect_env(settings, url)
    server = PrefectServer.start(settings, url)
    try:
        yield server.wait_ready
    finally:
        server.stop()


@contextmanager
def progress(
    docs: list[str], done: Callable[[str], bool], stream: TextIO | None = None, every: float = 2.0
) -> Iterator[None]:
    """While the block runs, on a terminal: a line every ``every`` seconds when more of ``docs`` are ``done``.

    A batch of a thousand documents takes about a minute and prints its table only at the end; a person at a
    terminal should see it move. Pipes, scripts and cron get no such lines: the summary table is their output.
    ``stream``: standard error by default.
    """
    stream = stream or sys.stderr
    if not stream.isatty():
        yield
        return
    stop = threading.Event()
    started = time.monotonic()

    def report() -> None:
        shown_count = 0
        while not stop.wait(every):
            count = sum(map(done, docs))
            if count != shown_count:
                stream.write(f"{count} of {len(docs)} documents done ({time.monotonic() - started:.0f} s)\n")
                stream.flush()
                shown_count = count

    thread = threading.Thread(target=report, name="docval-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
