"""What finding a dead run's documents costs: the dispatcher's check over every shard vs reading histories.

    python benchmarks/recovery_bench.py [--shards 3] [--docs 200] [--history 2000]

A data directory with ``--shards`` ledger shards, each holding ``--history``
finished documents (seven entries each, real signed ledgers), and ``--docs``
documents sitting in ``work/``, claimed round-robin by the shards (what a
batch of runs killed at once leaves). No run lock is held, so every one of
them is left behind. Measured in the same run:

- ``left_behind`` (flows/cluster/recovery.py): the dispatcher's trigger, the same
  reads a run's takeover plan makes: one run-lock probe and one
  ``doc.claimed`` query per shard for all documents in ``work/``;
- the baseline: the previous ``stranded()`` way, one ledger history read per
  document, here over every shard (what finding another shard's documents
  would cost that way).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_STEPS = ("doc.ingested", "doc.extracted", "doc.validated", "doc.masked", "doc.decided")


@dataclass(frozen=True)
class Figures:
    shards: int
    docs: int
    history: int
    found: int
    check_seconds: float
    baseline_seconds: float


def _doc(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def _fill(settings, shards: list[str], docs: int, history: int) -> None:
    """Finished histories in every shard, then ``docs`` claimed files in ``work/`` spread over the shards."""
    from docval.events import ClaimedPayload
    from docval.shards import shard_settings
    from flows.appliance import prepare
    from ledger import EntryDraft, Ledger

    claim = ClaimedPayload(source_hash="0" * 64, size=1).model_dump(mode="json")
    for index, name in enumerate(shards):
        shard = shard_settings(settings, name)
        prepare(shard)
        drafts = []
        for number in range(history):
            doc = _doc(f"{name}-done-{number}")
            drafts.append(EntryDraft("doc.claimed", doc, "bench", claim))
            drafts += [EntryDraft(kind, doc, "bench", {"bench": number}) for kind in _STEPS]
            drafts.append(EntryDraft("doc.published", doc, "bench", {"state": "published", "result_sha256": "0" * 64}))
        stranded = [_doc(f"work-{number}") for number in range(index, docs, len(shards))]
        drafts += [EntryDraft("doc.claimed", doc, "bench", claim) for doc in stranded]
        with Ledger.open(shard).writer() as writer:
            for start in range(0, len(drafts), 5000):
                writer.append_many(drafts[start : start + 5000])
        for doc in stranded:
            (settings.work_dir / f"{doc}.pdf").write_bytes(b"%PDF-1.4\n")
    old = time.time() - 3600
    for pdf in settings.work_dir.glob("*.pdf"):
        os.utime(pdf, (old, old))  # ctime stays now: left_behind is asked for documents 0 s old


def _histories(settings, shards: list[str]) -> int:
    """The baseline: a history read per document in ``work/`` and shard (one DuckDB open each)."""
    from docval.shards import shard_settings
    from flows.audit import Audit
    from flows.claim import claimed_in_work

    audits = [Audit(shard_settings(settings, name)) for name in shards]
    found = 0
    for claimed in claimed_in_work(settings.work_dir):
        if any(any(entry.kind == "doc.claimed" for entry in audit.history(claimed.doc)) for audit in audits):
            found += 1
    return found


def measure(root: Path, shards: int, docs: int, history: int) -> Figures:
    from docval.settings import load_settings
    from flows.appliance import prepare
    from flows.cluster.recovery import left_behind

    os.environ["DOCVAL_DATA_DIR"] = str(root / "var")
    settings = load_settings()
    prepare(settings)
    names = [f"w{index}" for index in range(1, shards + 1)]
    _fill(settings, names, docs, history)
    started = time.perf_counter()
    found = left_behind(settings, 0)
    check = time.perf_counter() - started
    started = time.perf_counter()
    baseline_found = _histories(settings, names)
    baseline = time.perf_counter() - started
    assert found == baseline_found == docs, (found, baseline_found, docs)
    return Figures(shards, docs, history, found, check, baseline)


def main(argv: list[str] | None = None) -> Figures:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--docs", type=int, default=200, help="documents left in work/")
    parser.add_argument("--history", type=int, default=2000, help="finished documents per shard (7 entries each)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="docval-recovery-bench-"))
    cpu = time.process_time()
    try:
        figures = measure(root, args.shards, args.docs, args.history)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cpu = time.process_time() - cpu
    print(f"load average (1/5/15 min): {os.getloadavg()}; cores: {os.cpu_count()}; process CPU {cpu:.1f} s")
    print(
        f"{figures.shards} shards × {figures.history} finished documents, {figures.docs} left in work/: "
        f"left_behind {figures.check_seconds * 1000:.0f} ms, a history read per document and shard "
        f"{figures.baseline_seconds * 1000:.0f} ms ({figures.baseline_seconds / figures.check_seconds:.1f} × slower)"
    )
    return figures


if __name__ == "__main__":
    main()
