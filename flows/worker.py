"""The long-lived worker: claim what the watcher finds, run batches, schedule the deadlines of what waits for people.

One process talks to the Prefect server for its whole life (a fresh Prefect process costs seconds). It first resumes
whatever a previous run left in ``work/`` (a crash or SIGKILL can stop it anywhere; flows/pipeline.py says why
resuming is safe), then loops: claim stable inbox files, collect them for ``batch_wait_seconds`` or up to
``batch_max`` and run one ``process-batch`` flow; documents that wait for people are ledger entries
(flows/approvals/), whose next deadline it schedules.

A batch that fails as a whole — the Prefect server restarting, the ledger file locked past ``lock_timeout_seconds``,
a full disk, a missing signing key — is not a document's fault and must not kill the worker: its documents stay in
``work/`` (every step is ledgered and resumable) and go to a backlog retried with growing delays, and the operator
gets one log line naming the cause.

Files can also be handed in by another process (``docval process`` beside ``docval up``, through flows/handoff.py):
the loop claims them as it claims inbox files and runs them at once as their own batch, so the command gets the
appliance's warm models instead of loading its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from docval.domain import DocState
from docval.errors import DocvalError
from docval.events import EntryKind, QuarantinedPayload
from docval.names import decodable, shown
from flows.audit import Draft
from flows.claim import Claimed, atomic_write, claim_file, claimed_in_work, work_pdf
from flows.errors import FlowError
from flows.makers import inbox_folder
from flows.pipeline import WORKER, Context, record_claims, told_when_settled
from flows.watch import InboxWatcher, inbox_entries

__all__ = ["Intake", "Worker"]

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 60.0
GIVE_UP_FAILURES = 6  # with exit_when_idle: about a minute of retries (2 + 4 + ... + 32 s), then a clear error


@dataclass
class Backlog:
    """Work a failed batch left behind: documents to resume, ledger entries and approval runs still to make."""

    docs: list[str] = field(default_factory=list)
    duplicates: list[Claimed] = field(default_factory=list)
    entries: list[Draft] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    failures: int = 0
    due: float = 0.0
    cause: str = ""

    def __bool__(self) -> bool:
        return bool(self.docs or self.duplicates or self.entries or self.approvals)

    def failed(self, cause: BaseException, what: str) -> None:
        """Schedule the next attempt (2 s, 4 s, ... up to a minute) and tell the operator why."""
        self.failures += 1
        delay = min(RETRY_FIRST_SECONDS * 2 ** (self.failures - 1), RETRY_MAX_SECONDS)
        self.due = time.monotonic() + delay
        self.cause = f"{what}: {type(cause).__name__}: {str(cause)[:300]}"
        log.error(
            "%s failed (%s: %s); %d documents stay in work/, retry %d in %.0f s",
            what, type(cause).__name__, str(cause)[:300], len(self.docs), self.failures, delay,
        )  # fmt: skip


@dataclass
class Intake:
    """Files handed to the worker from another thread: claimed on its loop (``claimed``), then run (``done``).

    ``error`` says why the files were not all claimed, or why their batch did not finish (its documents then
    stay in ``work/`` and the backlog retries them, as for any batch).
    """

    paths: list[Path]
    claimed: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    docs: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def fail(self, error: str) -> None:
        self.error = error
        self.claimed.set()
        self.done.set()

    def settle(self, states: dict[str, str]) -> None:
        """A batch's states (``flows.pipeline.settle``): done once every document has one, before the run closes."""
        self.states.update(states)  # only the intake's own batches run while it listens
        if len(self.states) == len(self.docs):
            self.done.set()


class Worker:
    def __init__(
        self,
        ctx: Context,
        process: Callable[[list[str], bool], dict[str, str]],
        request_approvals: Callable[[list[str]], None],
        *,
        on_idle: Callable[[], None] | None = None,
        parse_ahead: bool = True,
    ) -> None:
        """``parse_ahead``: start parsing what is claimed at once (``flows.ahead``); off when another process
        runs the batch (``docval process`` without ``--wait`` hands it to a served run)."""
        self.ctx = ctx
        self.parse_ahead = parse_ahead and ctx.kit is not None
        self.settings = ctx.settings
        self.process = process
        self.request_approvals = request_approvals
        self.states: dict[str, str] = {}
        self.on_idle = on_idle
        self._ignored: set[Path] = set()
        self.backlog = Backlog()
        self.taken_elsewhere = 0  # inbox files gone before we could claim them (another worker took them)
        self.refused: list[tuple[str, str]] = []  # (name as shown, reason) of files quarantined unclaimed
        self._handed: queue.SimpleQueue[Intake] = queue.SimpleQueue()
        self._wake = threading.Event()  # set by a hand-in: the loop takes it now, not after its poll

    def recover(self) -> dict[str, str]:
        """Finish every document a previous run left in the work area (it may have died at any point)."""
        docs = [claimed.doc for claimed in claimed_in_work(self.settings.work_dir)]
        for start in range(0, len(docs), self.settings.flows.batch_max):
            self._attempt(docs[start : start + self.settings.flows.batch_max], resumed=True)
        return {doc: self.states[doc] for doc in docs if doc in self.states}

    def claim(self, paths: list[Path]) -> list[str]:
        """Claim files into the work area; returns the ids of new documents (duplicates are recorded only).

        The watch loop calls this every ``poll_seconds`` even with nothing ready; the store (a DuckDB file:
        tens of ms of CPU to open, under its write lock) is opened only when there is something to claim.
        """
        if not paths:
            return []
        fresh: list[Claimed] = []
        duplicates: list[Claimed] = []
        refused: list[tuple[Path, str, str]] = []  # path, reason, detail: quarantined one by one, unclaimed
        try:
            with self.ctx.store.session() as store:

                def known(doc: str) -> bool:
                    return store.get(doc) is not None

                for path in paths:
                    if path in self._ignored:
                        continue
                    if not decodable(path.name):  # its name would break every hash, log and record downstream
                        refused.append((path, "UNDECODABLE_NAME", "file name is not valid UTF-8"))
                        continue
                    try:
                        claimed, is_new = claim_file(path, self.settings.work_dir, known=known)
                    except FileNotFoundError:
                        self.taken_elsewhere += 1  # taken away while we looked: another worker has it
                        continue
                    except OSError as exc:
                        refused.append((path, "UNREADABLE", type(exc).__name__))
                        continue
                    claimed = replace(claimed, folder=inbox_folder(path, self.settings.inbox))
                    (fresh if is_new else duplicates).append(claimed)
                    if is_new and self.parse_ahead:  # the children parse while the next files are claimed
                        self.ctx.kit.parses.start([work_pdf(self.settings.work_dir, claimed.doc)])
        except DocvalError as exc:  # the store stayed locked: nothing moved, the watcher offers the files again
            log.error("claiming %d inbox files failed (%s); they stay in the inbox", len(paths), exc)
            return []
        for path, reason, detail in refused:
            self._quarantine_unclaimed(path, reason, detail)
        if fresh or duplicates:
            try:
                record_claims(self.ctx, fresh, duplicates=duplicates)
            except Exception as exc:  # files are already in work/: resuming them records the claims
                self.backlog.docs += [claimed.doc for claimed in fresh]
                self.backlog.duplicates += duplicates
                self.backlog.failed(exc, f"recording {len(fresh) + len(duplicates)} claims")
                return []
        return [claimed.doc for claimed in fresh]

    def hand_in(self, paths: list[Path]) -> Intake:
        """Queue files for this worker's loop (any thread); wait on the intake's events for the outcome."""
        intake = Intake(paths)
        self._handed.put(intake)
        self._wake.set()
        return intake

    def _take_handed(self) -> None:
        """Claim and run the next queued intake as its own batch (split at ``batch_max``); one per loop turn, so a
        stop waits for one batch only."""
        try:
            intake = self._handed.get_nowait()
        except queue.Empty:
            return
        if not self._handed.empty():
            self._wake.set()  # the next turn takes the next one without waiting for its poll
        refused, backlog = len(self.refused), len(self.backlog.docs)
        intake.docs = self.claim(intake.paths)
        intake.refused = self.refused[refused:]
        if len(self.backlog.docs) > backlog:  # in work/, claims not ledgered: the backlog retries them
            intake.error = f"{self.backlog.cause}; the files are in work/ and the appliance retries them"
        elif left := sum(os.path.lexists(path) for path in intake.paths):
            taken = len(intake.paths) - left
            intake.error = (
                f"{left} files could not be claimed now (the appliance's log says why) and were not taken "
                f"({taken} were): run the command again for them"
            )
        intake.claimed.set()
        self._run_intake(intake)

    def _run_intake(self, intake: Intake) -> None:
        """The intake's claimed documents as batches; whatever fails stays in ``work/`` for the backlog."""
        size = self.settings.flows.batch_max
        with told_when_settled(intake.settle):  # all() stops at the first batch that fails
            failed = not all(
                self._attempt(intake.docs[at : at + size], resumed=False) for at in range(0, len(intake.docs), size)
            )
        if not intake.done.is_set():  # a batch failed before its documents settled, or its run told nobody
            intake.states = {doc: self.states[doc] for doc in intake.docs if doc in self.states}
            if failed:
                intake.error = f"{self.backlog.cause}; the documents stay in work/ and the appliance retries them"
            intake.done.set()

    def _quarantine_unclaimed(self, path: Path, reason: str, detail: str) -> None:
        """A file we cannot claim has no id; move it aside with a reason so it is not lost or retried forever."""
        source = self.ctx.kit.mask_source(path.name, None)
        name = _quarantine_name(reason, path.name, source)
        target = self.settings.quarantine_dir / name
        try:
            os.replace(path, target)
        except OSError:
            self._ignored.add(path)
            target = path
        log.warning("quarantined inbox file %s (%s)", source, reason)
        self.refused.append((source, reason))
        note = {"reason": reason, "stage": "claim", "detail": detail, "file": shown(target.name), "source": source}
        atomic_write(self.settings.quarantine_dir / f"{name}.reason.json", json.dumps(note).encode())
        payload = QuarantinedPayload(reason=reason, stage="claim", detail=detail)
        draft = Draft(EntryKind.QUARANTINED, None, WORKER, payload)
        try:
            self.ctx.audit.record([draft])
        except Exception as failure:  # the reason file is written; the entry follows with the backlog
            self.backlog.entries.append(draft)
            self.backlog.failed(failure, f"recording a quarantined inbox entry ({reason})")

    def run_batch(self, docs: list[str], *, resumed: bool) -> None:
        """Process one batch; raises if it failed as a whole (the watcher loop defers it instead)."""
        if not docs:
            return
        try:
            states = self.process(docs, resumed)
        except Exception:
            self._sign("after a failed batch")  # what the batch did commit is signed too
            raise
        self.ctx.audit.checkpoint()  # no unsigned tail: the batch's final writes are signed before it counts as done
        self.states.update(states)
        awaiting = [doc for doc, state in states.items() if state == DocState.AWAITING_APPROVAL]
        if awaiting:
            try:
                self.request_approvals(awaiting)
            except Exception as exc:  # processed and recorded; only the approval run is missing
                self.backlog.approvals += awaiting
                self.backlog.failed(exc, f"starting {len(awaiting)} approval runs")

    def _attempt(self, docs: list[str], *, resumed: bool) -> bool:
        """``run_batch``, with a whole-batch failure sent to the backlog instead of ending the worker."""
        try:
            self.run_batch(docs, resumed=resumed)
        except Exception as exc:  # infrastructure, not the documents: each stage quarantines its own failures
            self.backlog.docs += [doc for doc in docs if doc not in self.backlog.docs]
            self.backlog.failed(exc, f"batch of {len(docs)} documents")
            return False
        return True

    def retry_backlog(self) -> None:
        """One more attempt at everything the backlog holds; what fails again waits longer.

        Documents first (resuming them records their claims), then the entries that refer to them, then
        approval runs. Each list is emptied once done, so a later failure cannot record anything twice.
        """
        backlog, self.backlog = self.backlog, Backlog(failures=self.backlog.failures)
        batch_max = self.settings.flows.batch_max
        for start in range(0, len(backlog.docs), batch_max):
            if not self._attempt(backlog.docs[start : start + batch_max], resumed=True):
                backlog.docs = backlog.docs[start:]  # the failed chunk is in self.backlog too; _carry dedups
                self._carry(backlog)
                return
        backlog.docs = []
        try:
            if backlog.duplicates:
                record_claims(self.ctx, [], duplicates=backlog.duplicates)
                backlog.duplicates = []
            if backlog.entries:
                self.ctx.audit.record(backlog.entries)
                backlog.entries = []
            if backlog.approvals:
                self.request_approvals(backlog.approvals)
                backlog.approvals = []
        except Exception as exc:
            self._carry(backlog)
            self.backlog.failed(exc, "recording the backlog's entries")
            return
        if not self.backlog:
            log.warning("backlog cleared after %d failed attempts", backlog.failures)
            self.backlog = Backlog()

    def _carry(self, old: Backlog) -> None:
        """What ``old`` still holds goes back into the current backlog, ahead of anything newer."""
        self.backlog.docs = old.docs + [doc for doc in self.backlog.docs if doc not in old.docs]
        self.backlog.duplicates = old.duplicates + self.backlog.duplicates
        self.backlog.entries = old.entries + self.backlog.entries
        self.backlog.approvals = old.approvals + self.backlog.approvals

    def run(
        self,
        stop: threading.Event,
        *,
        exit_when_idle: bool = False,
        give_up_after: int = GIVE_UP_FAILURES,
        poll_seconds: float = 0.2,
    ) -> None:
        """Watch the inbox until ``stop`` is set (or, with ``exit_when_idle``, until nothing is left to do).

        A long-lived worker retries a failing backlog for ever (the operator fixes the cause, work resumes).
        A run that is meant to end (``exit_when_idle``, e.g. a cron job) raises FlowError after
        ``give_up_after`` failed attempts instead of hanging; its documents stay in ``work/`` for the next start.
        """
        try:
            self._watch(stop, exit_when_idle=exit_when_idle, give_up_after=give_up_after, poll_seconds=poll_seconds)
        finally:
            self._sign("on stop")  # every stop (signals set ``stop``): claims and quarantines get signed
            while not self._handed.empty():  # handed in as the appliance stopped: nothing of them was taken
                self._handed.get_nowait().fail("the appliance is stopping; nothing was taken: run the command again")

    def _sign(self, when: str) -> None:
        """A checkpoint over whatever is unsigned; a failure is logged, not raised over the error in flight."""
        try:
            self.ctx.audit.checkpoint()
        except Exception as exc:
            log.error(
                "could not sign the ledger %s (%s: %s); the next batch or start signs it", when, type(exc).__name__, exc
            )

    def _watch(self, stop: threading.Event, *, exit_when_idle: bool, give_up_after: int, poll_seconds: float) -> None:
        self.recover()
        pending: list[str] = []
        first_pending = 0.0
        flows = self.settings.flows
        with InboxWatcher(self.settings.inbox, flows.stable_seconds) as watcher:
            while not stop.is_set():
                self._take_handed()
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
                    if self._attempt(batch, resumed=False) and not pending and self.on_idle is not None:
                        self.on_idle()
                    continue
                if exit_when_idle and self.backlog.failures >= give_up_after:
                    raise FlowError(
                        f"giving up after {self.backlog.failures} failed attempts (last: {self.backlog.cause}); "
                        f"{len(self.backlog.docs)} documents stay in work/ and the next start resumes them"
                    )
                if self.backlog and time.monotonic() >= self.backlog.due:
                    self.retry_backlog()
                    continue
                idle = not pending and not watcher.waiting and not self.backlog
                if exit_when_idle and idle and not self._inbox_has_files():
                    return
                self._wake.wait(poll_seconds)  # a stop is seen within ``poll_seconds``, a hand-in at once
                self._wake.clear()

    def _inbox_has_files(self) -> bool:
        return any(path not in self._ignored for path in inbox_entries(self.settings.inbox))


def _quarantine_name(reason: str, name: str, shown_as: str) -> str:
    """``<reason>-<time>-<name>``, or a hash of the name's bytes when it is not shown as itself or is too long.

    A name that needed escaping or masking (``shown_as`` differs) must not reappear raw in the quarantine listing.
    """
    prefix = f"{reason.lower()}-{int(time.time())}-"
    raw = os.fsencode(name)
    fits = len(prefix) + len(raw) + len(".reason.json") <= 255
    return prefix + (name if shown_as == name and fits else hashlib.sha256(raw).hexdigest()[:16])
