"""Taking over what a dead run left in ``work/``, without a server: run locks, shards, unrecorded claims (~10 s).

Real ledger shards (DuckDB files, signed checkpoints), the real document store,
real flocks. A "live run" of a shard is a lock held on its ``run.lock`` by a
child process (a flock held here in this process would look the same to the
code, but a separate process is what the cluster has). Documents are files
that are not PDFs: they are quarantined at ingest, which is a final state
reached without models, so the test stays cheap.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hypothesis
from hypothesis import strategies as st

from docval.events import ClaimedPayload, EntryKind
from docval.settings import Settings
from docval.shards import shard_settings
from flows.audit import Draft
from flows.claim import atomic_write, hash_file, work_pdf
from flows.cluster.recovery import _try_lock, left_behind, own_run_lock, run_lock_path, take_over
from flows.pipeline import FINAL_KINDS, Context, load_batch, run_stages
from flows.worker import Worker


@contextmanager
def live_run(settings: Settings, shard: str) -> Iterator[None]:
    """Another process holding ``shard``'s run lock, as a live ``process-files`` run does."""
    path = run_lock_path(settings, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()  # like SIGKILL of a run: the kernel drops the lock
        holder.wait()


def _contexts(settings: Settings) -> dict[str, Context]:
    from flows.appliance import prepare
    from flows.batch import build_context

    prepare(settings)
    contexts = {}
    for name in ("w1", "w2", "w3"):
        shard = shard_settings(settings, name)
        prepare(shard)
        contexts[name] = build_context(shard)
    return contexts


def _run(ctx: Context, docs: list[str]) -> dict[str, str]:
    return {work.doc: work.state.value for work in run_stages(ctx, load_batch(ctx, docs, resumed=True))}


def _drop(settings: Settings, count: int, tag: str) -> list[Path]:
    paths = []
    for index in range(count):
        paths.append(settings.inbox / f"{tag}-{index}.pdf")
        paths[-1].write_bytes(b"not a pdf %s %d" % (tag.encode(), index))
    return paths


def _finals(ctx: Context) -> Counter[str]:
    from ledger import Ledger

    ledger = Ledger.open(ctx.settings)
    assert ledger.verify().ok
    final = {kind.value for kind in FINAL_KINDS}
    return Counter(entry.doc for entry in ledger.entries() if str(entry.kind) in final)


def test_own_shard_resumes_its_claims_and_leaves_a_live_shards_alone(settings: Settings) -> None:
    contexts = _contexts(settings)
    mine = Worker(contexts["w1"], process=len, request_approvals=len).claim(_drop(settings, 2, "a"))
    theirs = Worker(contexts["w2"], process=len, request_approvals=len).claim(_drop(settings, 2, "b"))
    with live_run(settings, "w2"), own_run_lock(contexts["w1"].settings, "w1"):
        with take_over(contexts["w1"], "w1") as takeover:
            assert sorted(takeover.own) == sorted(mine)
            assert takeover.others == {} and takeover.recorded == 0  # w2's run is alive: its documents are its own
        assert left_behind(settings, 0) == 0  # w1 holds its lock (its documents are in flight), w2 is alive
    assert left_behind(settings, 0) == 4  # both runs died: a run starting now takes over all four
    with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as takeover:
        assert sorted(takeover.others["w2"]) == sorted(theirs)


def test_a_dead_shards_documents_are_finished_in_that_shard_once(settings: Settings) -> None:
    contexts = _contexts(settings)
    theirs = Worker(contexts["w2"], process=len, request_approvals=len).claim(_drop(settings, 3, "b"))
    assert left_behind(settings, 0) == 3 and left_behind(settings, 3600) == 0  # only old enough ones count
    with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as takeover:
        assert takeover.own == [] and sorted(takeover.others["w2"]) == sorted(theirs)
        # While this run holds w2's lock, w2's next run waits for it instead of resuming the same documents.
        probe = subprocess.run(
            [sys.executable, "-c", _TRY_LOCK, str(run_lock_path(settings, "w2"))], capture_output=True, text=True
        )
        assert probe.stdout.strip() == "busy", probe.stderr
        states = _run(contexts["w2"], takeover.others["w2"])
    assert set(states.values()) == {"quarantined"}
    assert _finals(contexts["w2"]) == dict.fromkeys(theirs, 1)  # history stays in w2: claimed there, final there
    assert _finals(contexts["w1"]) == {}
    assert not list(settings.work_dir.glob("*.pdf"))
    with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as again:
        assert again.own == [] and again.others == {}  # nothing is finished twice


def test_an_unrecorded_claim_is_recorded_only_when_no_other_run_lives(settings: Settings) -> None:
    contexts = _contexts(settings)
    (path,) = _drop(settings, 1, "c")
    doc, _ = hash_file(path)
    atomic_write(settings.work_dir / f"{doc}.source", path.name.encode())
    path.rename(work_pdf(settings.work_dir, doc))  # the rename happened, then the run died: no doc.claimed
    with live_run(settings, "w2"):
        assert left_behind(settings, 0) == 0
        with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as takeover:
            assert takeover.own == [] and takeover.recorded == 0  # w2 may be between its rename and its entry
    assert left_behind(settings, 0) == 1
    with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as takeover:
        assert takeover.own == [doc] and takeover.recorded == 1
        assert _run(contexts["w1"], takeover.own) == {doc: "quarantined"}
    assert _finals(contexts["w1"]) == {doc: 1}
    assert _finals(contexts["w2"]) == {}


_TRY_LOCK = (
    "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
    "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
    "except BlockingIOError:\n    print('busy')\n"
)


def test_recovery_bench_small(monkeypatch, capsys, load_benchmark) -> None:
    """benchmarks/recovery_bench.py at a small size (~1 s): both ways find every document left in work/."""
    bench = load_benchmark("recovery_bench")
    monkeypatch.setenv("DOCVAL_DATA_DIR", "unused")  # the bench sets its own; restored after the test
    figures = bench.main(["--shards", "3", "--docs", "12", "--history", "10"])
    assert figures.found == 12
    assert "left_behind" in capsys.readouterr().out


_OWNERS = st.lists(st.sampled_from(["w1", "w2", "w3", None]), max_size=6)


@hypothesis.settings(
    max_examples=12, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(owners=_OWNERS, live=st.sets(st.sampled_from(["w2", "w3"])))
def test_takeover_gives_each_document_to_exactly_one_place(
    settings: Settings, owners: list[str | None], live: set[str]
) -> None:
    """Whatever the shards claimed and whichever runs live, w1's plan takes a document at most once, only
    from dead shards, keeps it in the shard that claimed it, and records claims only when nobody else lives."""
    import os
    import uuid

    contexts = _CONTEXTS.get(settings.data_dir) or _CONTEXTS.setdefault(settings.data_dir, _contexts(settings))
    owner_of = {uuid.uuid4().hex + uuid.uuid4().hex: owner for owner in owners}

    def owned_by(name: str | None) -> list[str]:
        return sorted(doc for doc, owner in owner_of.items() if owner == name)

    for doc in owner_of:
        atomic_write(settings.work_dir / f"{doc}.source", b"inbox name")
        work_pdf(settings.work_dir, doc).write_bytes(b"claimed bytes " + doc.encode())
    claim = ClaimedPayload(source_hash="0" * 64, size=1)
    for name, ctx in contexts.items():
        ctx.audit.record([Draft(EntryKind.CLAIMED, doc, "test", claim) for doc in owned_by(name)])
    held = [fd for name in sorted(live) if (fd := _try_lock(run_lock_path(settings, name))) is not None]
    try:
        with own_run_lock(contexts["w1"].settings, "w1"), take_over(contexts["w1"], "w1") as takeover:
            orphans = owned_by(None)
            assert sorted(takeover.own) == sorted(owned_by("w1") + ([] if live else orphans))
            assert takeover.recorded == (0 if live else len(orphans))
            expected = {name: owned_by(name) for name in ("w2", "w3") if name not in live and owned_by(name)}
            assert {name: sorted(docs) for name, docs in takeover.others.items()} == expected
    finally:
        for fd in held:
            os.close(fd)
        for path in settings.work_dir.iterdir():
            path.unlink()
    recorded_in = {name: ctx.audit.claimed(list(owner_of)) for name, ctx in contexts.items()}
    for doc, owner in owner_of.items():
        shards = [name for name, claimed in recorded_in.items() if doc in claimed]
        assert shards == ([owner] if owner else ([] if live else ["w1"]))  # one shard's history, never two


_CONTEXTS: dict[Path, dict[str, Context]] = {}
