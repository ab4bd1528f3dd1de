"""Assertions shared by the flows tests: one final state per document, nothing decided twice."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from docval.domain import DocState, DocumentResult, Outcome
from docval.events import EntryKind
from docval.settings import Settings
from docval.store import DocumentStore
from flows.approvals.applied import signed_policy
from flows.audit import Audit
from flows.claim import Claimed
from flows.outbox import outbox_path
from flows.pipeline import FINAL_KINDS, Context, DocWork, finish, record_claims
from flows.policy import PolicyDecision
from flows.worker import Worker
from ledger import Ledger, verify_ledger


@contextmanager
def running_worker(
    ctx: Context, process: Callable[[list[str], bool], dict[str, str]] | None = None
) -> Iterator[Worker]:
    """The real worker loop (watcher + process-batch flow, or ``process``) in a thread, stopped and joined on exit."""
    from flows.batch import process_batch

    process = process or (lambda docs, resumed: process_batch(docs, resumed))
    worker = Worker(ctx, process=process, request_approvals=lambda d: None)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(60)


def wait_for(condition: Callable[[], bool], failure: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.1)


def drop_samples(settings: Settings, folder: Path, count: int) -> set[str]:
    """Sample documents written to ``folder`` and moved into the inbox whole; their ids."""
    from extractors.samples import write_sample_inbox

    docs = set()
    for sample in write_sample_inbox(folder, count=count):
        path = folder / sample.file
        docs.add(hashlib.sha256(path.read_bytes()).hexdigest())
        os.replace(path, settings.inbox / sample.file)
    return docs


def ledger_stamp(settings: Settings) -> tuple[int, ...]:
    """Changes whenever the ledger is written: the way to know a worker has started work."""
    files = [settings.ledger_db, settings.ledger_db.with_name(settings.ledger_db.name + ".wal")]
    return tuple(path.stat().st_mtime_ns if path.exists() else 0 for path in files)


def start_watch(stderr: IO[bytes] | int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """`docval watch --exit-when-idle`, entered through its command function to skip the other packages' CLIs."""
    command = [sys.executable, "-c", "from flows.cli import watch; watch(exit_when_idle=True)"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=os.environ.copy())


ONCE_PER_DOC = (
    EntryKind.CLAIMED,
    EntryKind.INGESTED,
    EntryKind.EXTRACTED,
    EntryKind.VALIDATED,
    EntryKind.MASKED,
    EntryKind.DECIDED,
)


def assert_exactly_once(settings: Settings, docs: set[str]) -> dict[str, DocState]:
    """Every document: one final ledger entry, each step at most once, store and outbox agree; ledger verifies."""
    ledger = Ledger.open(settings)
    kinds: dict[str, Counter[str]] = {doc: Counter() for doc in docs}
    for entry in ledger.entries():
        if entry.doc in kinds:
            kinds[entry.doc][entry.kind] += 1
    states = {}
    for doc, counts in kinds.items():
        finals = sum(counts[kind] for kind in FINAL_KINDS)
        assert finals == 1, f"{doc[:12]}: {finals} final entries {dict(counts)}"
        for kind in ONCE_PER_DOC:
            assert counts[kind] <= 1, f"{doc[:12]}: {kind} written {counts[kind]} times"
        result = DocumentResult.model_validate_json(outbox_path(settings, doc).read_text(encoding="utf-8"))
        record = DocumentStore(settings.store_db).get(doc)
        assert record is not None and record.state is result.state, f"{doc[:12]}: store {record} vs outbox"
        states[doc] = result.state
    assert not list(settings.work_dir.glob("*.pdf")), "documents left in the work area"
    report = verify_ledger(ledger)
    assert report.ok, report
    return states


FINAL_KIND_NAMES = {kind.value for kind in FINAL_KINDS}


class ClusterUp:
    """``docval cluster up OPTIONS`` in a child process, its output (dispatcher log included) collected by line."""

    def __init__(self, settings: Settings, env: dict[str, str], *options: str) -> None:
        command = [sys.executable, "-m", "docval", "cluster", "up", *options]
        self.settings = settings
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 180.0) -> None:
        wait_for(lambda: "Prefect UI" in self.output, "cluster did not come up", timeout)

    def worker_logs(self) -> str:
        folder = self.settings.data_dir / "prefect"
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("worker-*.log")))

    def workers(self) -> list[int]:
        """Process ids of the ``prefect worker`` children."""
        return [pid for pid in child_pids(self.process.pid) if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> None:
        """SIGTERM, what Ctrl-C does: dispatcher, workers, server and database stop in order."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(180)


def child_pids(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(status.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(status.parent.name))
        except (OSError, ValueError):
            continue
    return found


def assert_once_over_shards(settings: Settings, total: int) -> None:
    """``total`` documents, each with one final entry over all shards, in the shard that claimed it; one outbox
    file each; nothing left in work/; an anchor pass accepts every shard, and root and shards verify."""
    from docval.shards import shard_names, shard_settings
    from ledger.anchor import anchor_shards
    from ledger.verify_shards import verify_installation

    finals: Counter[str] = Counter()
    for name in shard_names(settings):
        entries = list(Ledger.open(shard_settings(settings, name)).entries())
        claimed = {entry.doc for entry in entries if str(entry.kind) == EntryKind.CLAIMED.value}
        final = [entry.doc for entry in entries if str(entry.kind) in FINAL_KIND_NAMES]
        assert set(final) <= claimed, f"shard {name} finished a document another shard claimed"
        finals.update(final)
    assert len(finals) == total and set(finals.values()) == {1}, finals.most_common(3)  # none lost, none twice
    assert len(list(settings.outbox.glob("*.json"))) == total
    assert not list(settings.work_dir.glob("*.pdf")), "documents left in the work area"
    assert not anchor_shards(settings, None).refused
    report = verify_installation(settings)
    assert report.ok, report.summary()


def shared_paths(data_dir: Path) -> list[str]:
    """Everything under ``data_dir`` (itself included) that group or others may read, write or enter."""
    found = []
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(data_dir.parent)} {stat.S_IMODE(mode):04o}")
    return found


def docval(*args: str) -> subprocess.CompletedProcess[str]:
    """``docval ARGS…`` in a child process (the environment as the test set it), its output as text."""
    return subprocess.run([sys.executable, "-m", "docval", *args], capture_output=True, text=True, timeout=300)


def sample_folder(folder: Path) -> Path:
    """The generated sample inbox (real PDFs: clean and defective invoices, KYC forms) written to ``folder``."""
    from extractors.samples import write_sample_inbox

    write_sample_inbox(folder)
    return folder


def waiting_document(settings: Settings, *, approvals: int, deadline_in: timedelta, dropped: Path | None = None) -> str:
    """A document decided `needs_approval`, written through the pipeline's own final stage.

    ``dropped``: an inbox file, claimed by the real worker (its maker from its folder or owner); else
    a document claimed from alice's inbox folder.
    """
    from docval.hashing import KeyedHasher

    store = DocumentStore(settings.store_db)
    ctx = Context(settings, Audit(settings), store, signed_policy(settings)[1], None)  # as workers: signed only
    # The pipeline's toolkit without its models: these tests are about approvals, not masking or extraction.
    hasher = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    ctx.kit = type(
        "Hashing",
        (),
        {"hasher": hasher, "mask_source": staticmethod(lambda source, doc: source), "one_vault_commit": nullcontext},
    )()
    if dropped is None:
        doc = hashlib.sha256(f"{time.time_ns()}".encode()).hexdigest()
        (settings.work_dir / f"{doc}.pdf").write_bytes(b"%PDF-1.4 test")
        record_claims(ctx, [Claimed(doc=doc, source="waiting.pdf", size=13, folder="alice")], duplicates=[])
    else:
        [doc] = Worker(ctx, process=len, request_approvals=len, parse_ahead=False).claim([dropped])
    work = DocWork(doc=doc, source="waiting.pdf", seqs=[e.seq for e in ctx.audit.history(doc)])
    work.decision = PolicyDecision(
        outcome=Outcome.NEEDS_APPROVAL,
        rule="test",
        approvals_required=approvals,
        deadline=datetime.now(UTC) + deadline_in,
    )
    work.state = DocState.AWAITING_APPROVAL
    finish(ctx, [work])
    return doc
