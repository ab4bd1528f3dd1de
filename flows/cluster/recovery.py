"""Documents a dead ``process-files`` run left in the shared ``work/``: taken over by whichever run comes next.

A run can die anywhere (SIGKILL, OOM, the Prefect server or PostgreSQL
failing under it); its documents then sit in ``work/``. Waiting for the same
worker's next run is luck (the dispatcher only dispatches inbox files), so any
run takes them over, and run locks keep that exactly-once:

- Every ``process-files`` run holds an exclusive ``flock`` on
  ``shards/NAME/run.lock`` of its own shard for its whole life (it waits for
  it: an adopting run may hold it for a while). The kernel drops the lock
  when the process dies, SIGKILL included, so *the lock of shard X is free*
  means *no run of shard X is alive*.
- Own shard: every document in ``work/`` whose ``doc.claimed`` is in this
  shard is resumed, with or without a final entry (a kill between the final
  entry and the file move leaves it there too; flows/pipeline.py makes
  resuming safe and never decides twice).
- Other shards: their locks are tried without waiting. A run holding shard
  X's lock finishes X's documents *in X's ledger* (a document's history stays
  in one shard: the approval gate and reports read one), signs X's checkpoint
  and lets go. X's next run waits for its lock meanwhile.
- Unrecorded claims: a file renamed into ``work/`` by a run killed before its
  ``doc.claimed`` entry is in no shard. Only while one run holds *every*
  shard's lock is nobody between a rename and its claim entry, so only then
  does that run record the claim in its own shard; from then on it is an
  ordinary document of that shard.
- Trigger: the dispatcher (flows/cluster/dispatcher.py) starts a run with no names when
  ``work/`` holds documents older than ``stranded_seconds`` and no run is in
  flight, so a quiet inbox does not leave them waiting.

Locks live on the shared data directory, like the document store's: on
several machines it must be a file system with working ``flock`` (local,
or NFSv4 with locking). Plain Python, no Prefect here.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from docval.settings import Settings
from docval.shards import SHARDS_DIR, root_settings, shard_names, shard_settings
from flows.audit import Audit
from flows.claim import claimed_again, claimed_in_work, work_pdf
from flows.errors import FlowError
from flows.pipeline import Context, record_claims

__all__ = ["RUN_LOCK", "Takeover", "left_behind", "live_shards", "own_run_lock", "run_lock_path", "take_over"]

log = logging.getLogger(__name__)

RUN_LOCK = "run.lock"
OWN_LOCK_WAIT_SECONDS = 900.0
QUIET_WAIT_SECONDS = 3.0
_POLL_SECONDS = 0.2


def run_lock_path(settings: Settings, shard: str) -> Path:
    return settings.resolve(SHARDS_DIR / shard / RUN_LOCK)


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding ``path``'s exclusive flock, or None if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _is_free(path: Path) -> bool:
    fd = _try_lock(path)
    if fd is None:
        return False
    os.close(fd)
    return True


def live_shards(settings: Settings) -> list[str]:
    """Shards with a live ``process-files`` run right now (their run lock is held)."""
    root = root_settings(settings)
    return [name for name in shard_names(root) if not _is_free(run_lock_path(root, name))]


def left_behind(settings: Settings, older_than: float) -> int:
    """How many documents in ``work/``, there for ``older_than`` seconds, a run starting now would take over.

    The dispatcher's trigger for a recovery run. It only probes the run locks (never keeps one), so the
    answer can be stale by the time the run starts; the run decides again under the locks.
    """
    root = root_settings(settings)
    cutoff = time.time() - older_than
    old = []
    for claimed in claimed_in_work(root.work_dir):
        try:
            moved_in = work_pdf(root.work_dir, claimed.doc).stat().st_ctime  # the rename into work/ sets it
        except FileNotFoundError:
            continue
        if moved_in < cutoff:
            old.append(claimed.doc)
    if not old:
        return 0
    names = shard_names(root)
    free = [name for name in names if _is_free(run_lock_path(root, name))]
    claimed_by = {name: Audit(shard_settings(root, name)).claimed(old) for name in names}
    anywhere = set().union(*claimed_by.values())
    orphans = len(set(old) - anywhere) if len(free) == len(names) else 0
    return orphans + sum(len(claimed_by[name]) for name in free)


@contextmanager
def own_run_lock(settings: Settings, shard: str, wait: float = OWN_LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold shard ``shard``'s run lock for the block; waits while another run finishes this shard's documents."""
    path = run_lock_path(root_settings(settings), shard)
    deadline = time.monotonic() + wait
    fd = _try_lock(path)
    told = time.monotonic() + QUIET_WAIT_SECONDS  # another run's plan holds it a moment; say so only if longer
    while fd is None:
        if time.monotonic() >= deadline:
            raise FlowError(f"shard {shard}: {path} stayed locked by another process for {wait:g} s")
        if time.monotonic() >= told:
            log.warning("shard %s: another run is finishing this shard's documents; waiting for %s", shard, path)
            told = deadline
        time.sleep(_POLL_SECONDS)
        fd = _try_lock(path)
    try:
        yield
    finally:
        os.close(fd)  # releases the flock


@dataclass
class Takeover:
    """What one run finishes besides its own claims, and the other shards' run locks it holds meanwhile."""

    own: list[str] = field(default_factory=list)
    recorded: int = 0  # unrecorded claims this run recorded in its own shard (part of ``own``)
    others: dict[str, list[str]] = field(default_factory=dict)
    _locks: dict[str, int] = field(default_factory=dict)

    def release(self, shard: str) -> None:
        fd = self._locks.pop(shard, None)
        if fd is not None:
            os.close(fd)

    def release_all(self) -> None:
        for shard in list(self._locks):
            self.release(shard)


@contextmanager
def take_over(ctx: Context, shard: str) -> Iterator[Takeover]:
    """Plan this run's recovery (call with ``shard``'s own run lock held); other shards' locks freed on exit."""
    takeover = Takeover()
    try:
        _plan(ctx, shard, takeover)
        yield takeover
    finally:
        takeover.release_all()


def _plan(ctx: Context, shard: str, takeover: Takeover) -> None:
    root = root_settings(ctx.settings)
    others = [name for name in shard_names(root) if name != shard]
    for name in others:  # first the locks, then the reads: a run alive while we read could still be writing
        fd = _try_lock(run_lock_path(root, name))
        if fd is not None:
            takeover._locks[name] = fd
    in_work = [claimed.doc for claimed in claimed_in_work(ctx.settings.work_dir)]
    mine = ctx.audit.claimed(in_work)
    takeover.own = [doc for doc in in_work if doc in mine]
    anywhere = set(mine)
    for name in others:
        theirs = Audit(shard_settings(root, name)).claimed(in_work)
        anywhere |= theirs
        if name in takeover._locks and theirs:
            takeover.others[name] = [doc for doc in in_work if doc in theirs]
    orphans = [doc for doc in in_work if doc not in anywhere]
    if orphans and len(takeover._locks) == len(others):  # every other run is dead: nobody is mid-claim
        _record(ctx, orphans)
        takeover.own += orphans
        takeover.recorded = len(orphans)
    for name in [name for name in takeover._locks if name not in takeover.others]:
        takeover.release(name)
    if takeover.others or takeover.recorded:
        adopted = {name: len(docs) for name, docs in takeover.others.items()}
        log.warning(
            "shard %s takes over %d unrecorded claims and dead runs' documents %s", shard, takeover.recorded, adopted
        )


def _record(ctx: Context, docs: list[str]) -> None:
    """``doc.claimed`` in this shard for files a run renamed into ``work/`` and died before recording."""
    record_claims(ctx, [claimed_again(ctx.settings.work_dir, doc) for doc in docs], duplicates=[])
