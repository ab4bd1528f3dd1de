"""The long-lived worker: claim what the watcher finds, run batches, hand approvals to their own runs.

One process talks to the Prefect server for its whole life (a fresh Prefect
process costs seconds). It first resumes whatever a previous run left in
``work/`` (a crash or SIGKILL can stop it anywhere; see flows/pipeline.py for
why resuming is safe), then loops: claim stable inbox files, collect them for
``batch_wait_seconds`` or up to ``batch_max``, run one ``process-batch`` flow,
and start one ``await-approval`` run per document that needs people.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from docval.domain import DocState
from docval.events import EntryKind, QuarantinedPayload
from flows.audit import Draft
from flows.claim import Claimed, atomic_write, claim_file, claimed_in_work
from flows.pipeline import Context, record_claims
from flows.watch import InboxWatcher

__all__ = ["Worker"]

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        ctx: Context,
        process: Callable[[list[str], bool], dict[str, str]],
        request_approvals: Callable[[list[str]], None],
        *,
        maker: str | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.process = process
        self.request_approvals = request_approvals
        self.maker = maker or ctx.settings.flows.inbox_submitter
        self.states: dict[str, str] = {}
        self.on_idle = on_idle
        self._ignored: set[Path] = set()
        self.skipped: list[Path] = []  # files another worker claimed first (shared inbox)

    def recover(self) -> dict[str, str]:
        """Finish every document a previous run left in the work area (it may have died at any point)."""
        docs = [claimed.doc for claimed in claimed_in_work(self.settings.work_dir)]
        for start in range(0, len(docs), self.settings.flows.batch_max):
            self.run_batch(docs[start : start + self.settings.flows.batch_max], resumed=True)
        return {doc: self.states[doc] for doc in docs if doc in self.states}

    def claim(self, paths: list[Path]) -> list[str]:
        """Claim files into the work area; returns the ids of new documents (duplicates are recorded only)."""
        fresh: list[Claimed] = []
        duplicates: list[Claimed] = []
        unreadable: list[tuple[Path, OSError]] = []
        with self.ctx.store.session() as store:
            for path in paths:
                if path in self._ignored:
                    continue
                try:
                    claimed, is_new = claim_file(path, self.settings.work_dir, known=lambda d: store.get(d) is not None)
                except FileNotFoundError:
                    self.skipped.append(path)  # taken away while we looked: another worker has it
                    continue
                except OSError as exc:
                    unreadable.append((path, exc))
                    continue
                (fresh if is_new else duplicates).append(claimed)
        for path, exc in unreadable:
            self._quarantine_unreadable(path, exc)
        if fresh or duplicates:
            record_claims(self.ctx, fresh, maker=self.maker, duplicates=duplicates)
        return [claimed.doc for claimed in fresh]

    def _quarantine_unreadable(self, path: Path, exc: OSError) -> None:
        """A file we cannot read has no id; move it aside with a reason so it is not lost or retried forever."""
        target = self.settings.quarantine_dir / f"unreadable-{int(time.time())}-{path.name}"
        try:
            os.replace(path, target)
        except OSError:
            self._ignored.add(path)
            target = path
        reason = {"reason": "UNREADABLE", "stage": "claim", "detail": type(exc).__name__, "file": target.name}
        atomic_write(target.with_name(target.name + ".reason.json"), json.dumps(reason).encode())
        payload = QuarantinedPayload(reason="UNREADABLE", stage="claim", detail=type(exc).__name__)
        self.ctx.audit.record([Draft(EntryKind.QUARANTINED, None, self.maker, payload)])

    def run_batch(self, docs: list[str], *, resumed: bool) -> None:
        if not docs:
            return
        states = self.process(docs, resumed)
        self.states.update(states)
        awaiting = [doc for doc, state in states.items() if state == DocState.AWAITING_APPROVAL]
        if awaiting:
            self.request_approvals(awaiting)

    def run(self, stop: threading.Event, *, exit_when_idle: bool = False, poll_seconds: float = 0.2) -> None:
        """Watch the inbox until ``stop`` is set (or, with ``exit_when_idle``, until nothing is left to do)."""
        self.recover()
        pending: list[str] = []
        first_pending = 0.0
        flows = self.settings.flows
        with InboxWatcher(self.settings.inbox, flows.stable_seconds) as watcher:
            while not stop.is_set():
                new = self.claim(watcher.ready())
                if new and not pending:
                    first_pending = time.monotonic()
                pending += new
                due = pending and (
                    len(pending) >= flows.batch_max or time.monotonic() - first_pending >= flows.batch_wait_seconds
                )
                if due:
                    batch, pending = pending[: flows.batch_max], pending[flows.batch_max :]
                    first_pending = time.monotonic()
                    self.run_batch(batch, resumed=False)
                    if not pending and self.on_idle is not None:
                        self.on_idle()
                    continue
                if exit_when_idle and not pending and not watcher.waiting and not self._inbox_has_files():
                    return
                stop.wait(poll_seconds)

    def _inbox_has_files(self) -> bool:
        return any(
            path.is_file() and not path.name.startswith(".") and path not in self._ignored
            for path in self.settings.inbox.iterdir()
        )
