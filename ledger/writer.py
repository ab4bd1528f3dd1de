"""The bulk writer's session: batch after batch on one held connection, the lock given up between holds.

Apart from ``ledger.log`` because it is the one place a connection outlives a call: the lock hold, the
idle timer thread and the hand-off of each hold's checkpoint to the witnesses live here, while the append
and signing themselves stay on ``Ledger`` so every writer path shares them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import duckdb

from docval.db import connect
from ledger.entries import EntryDraft, check_drafts
from ledger.errors import LedgerError
from ledger.reader import LedgerReader

if TYPE_CHECKING:
    from ledger.log import Ledger

__all__ = ["LedgerWriter"]

_YIELD_SECONDS = 0.02  # > docval.db's lock poll interval, so a waiting reader sees the lock free
_WAL_LIMIT = "1GB"  # far above what one hold writes: the release writes the WAL out, not each commit


class LedgerWriter:
    """Appends batch after batch on one held connection, giving the lock up every ``writer_hold_seconds``.

    Opening the database and closing it (when DuckDB writes the batch from its WAL into the file) cost
    more than the batch itself once the file is large, so a single-owner writer keeps the exclusive lock
    and one connection across batches. Each batch is still its own transaction (a SIGKILL leaves whole
    batches), and the session lets go of the lock after any batch that ends ``writer_hold_seconds`` after
    it was taken — or, if the owner is busy elsewhere, as soon as the hold is over (a timer thread) — then
    waits a moment before taking it again, so readers (verify, reports) and occasional writers polling for
    it get in; nobody waits longer than about one hold plus one batch.
    WAL checkpoints are left to the release (``checkpoint_threshold``), so data is written out once per
    hold, not whenever the WAL passes DuckDB's 16 MB default. Closing the session signs the entries no
    checkpoint covers yet (``sign_on_close``), the "on shutdown" checkpoint. With ``[ledger] witnesses``,
    each release offers the hold's latest checkpoint to the witnesses (it extends every one before it), so
    witnessing costs one exchange per hold, not one per checkpoint, and never runs under the file lock.
    """

    def __init__(self, ledger: Ledger, *, sign_on_close: bool = True) -> None:
        self.ledger = ledger
        self.sign_on_close = sign_on_close
        self._session: ExitStack | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._held_since = 0.0
        self._released_at = float("-inf")
        self._busy = threading.Lock()  # the owner's work and the idle timer's release never overlap
        self._idle_timer: threading.Timer | None = None
        self._signed = False  # a checkpoint was signed in this hold: offer it to the witnesses on release

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.close()
        else:
            self.release()

    def close(self) -> None:
        """End the session: sign what is unsigned (if ``sign_on_close``), then release."""
        try:
            if self.sign_on_close:
                self.checkpoint()
        finally:
            self.release()

    def append_many(self, drafts: list[EntryDraft]) -> list[int]:
        """Append all drafts in ONE transaction (all or none); sign a checkpoint if one is due."""
        check_drafts(drafts)
        if not drafts:
            return []
        with self._busy:
            con = self._connection()
            try:
                con.begin()
                seqs = self.ledger._append_locked(con, drafts)
                note = self.ledger._checkpoint_if_due(con)
                con.commit()
            except BaseException:
                self._release_locked()  # closing rolls the open transaction back
                raise
            self.ledger._copy_checkpoints([note] if note else [])
            self._signed |= note is not None
            if time.monotonic() - self._held_since >= self.ledger.config.writer_hold_seconds:
                self._release_locked()
        return seqs

    def checkpoint(self) -> str | None:
        """Sign the entries no checkpoint covers yet, on the held connection; the new note or None."""
        with self._busy:
            con = self._connection()
            try:
                con.begin()
                note = self.ledger._checkpoint_locked(con)
                con.commit()
            except BaseException:
                self._release_locked()
                raise
            self.ledger._copy_checkpoints([note] if note else [])
            self._signed |= note is not None
        return note

    @contextmanager
    def reader(self) -> Iterator[LedgerReader]:
        """Reads on the held connection: a reader of its own, even in this process, would wait for this lock."""
        with self._busy:
            yield LedgerReader(self._connection(), self.ledger._node_cache)

    def release(self) -> None:
        """Close the connection (DuckDB writes the WAL out) and let go of the lock; appends take it again."""
        with self._busy:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._session is not None:
            offers = self._witness_offers()
            session, self._session, self._con = self._session, None, None
            session.close()
            self._released_at = time.monotonic()
            if offers:
                from ledger.witnessing import send  # builds on this module

                send(self.ledger, offers)  # over HTTP, with the file lock already let go

    def _witness_offers(self) -> list[Any]:
        """The hold's latest checkpoint for the witnesses, read on the held connection (it extends the ones
        before it, so one exchange per hold covers them all)."""
        signed, self._signed = self._signed, False
        if not (signed and self.ledger.config.witnesses and self._con is not None):
            return []
        from ledger.witnessing import prepare  # builds on this module

        try:
            return prepare(self.ledger, LedgerReader(self._con))
        except (LedgerError, duckdb.Error):
            return []  # e.g. released mid-transaction; the next checkpoint or sign_pending offers it

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            pause = self._released_at + _YIELD_SECONDS - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # readers poll the lock; give them a turn before taking it again
            with ExitStack() as session:
                con = session.enter_context(
                    connect(self.ledger.db_path, write=True, timeout=self.ledger.config.lock_timeout_seconds)
                )
                con.execute(f"SET checkpoint_threshold = '{_WAL_LIMIT}'")
                self._session, self._con = session.pop_all(), con
                self._held_since = time.monotonic()
            self._idle_timer = threading.Timer(self.ledger.config.writer_hold_seconds, self._release_if_idle)
            self._idle_timer.daemon = True
            self._idle_timer.start()
        return self._con

    def _release_if_idle(self) -> None:
        """Timer thread: an owner busy with its own work must not keep readers out past the hold."""
        if self._busy.acquire(blocking=False):  # if a batch is running, it releases when it ends
            try:
                self._release_locked()
            finally:
                self._busy.release()
