"""What a backlog of waiting documents costs now that waiting is ledger entries only.

    python benchmarks/approvals_bench.py [--waiting 10000] [--decisions 20]

Builds a data directory with the demo people and ``--waiting`` documents waiting for two approvals
(ledger entries, store rows and outbox records as the pipeline writes them), then prints, each beside a
baseline from the same run:
- ``docval pending`` (``pending_rows``) with the backlog vs with none;
- the resident memory of the process before and after listing the backlog (no run, process or thread
  exists per waiting document, so this is the whole cost of holding it);
- decision → published outbox record: ``docval approve``'s work (mask the reason, sign with ssh-keygen,
  record under the write lock) plus the publish function's work (outbox, final entry, store, archive), on
  documents needing one approval, median and p95. The Prefect flow run that carries publishing in the
  appliance adds its start-up (measured in pipeline_bench: about 1-2 s on 2 cores) on top.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from approvals.statement import fields_digest
from docval.domain import Decision, DocKind, DocState, DocumentResult, LedgerSpan, Outcome
from docval.settings import Settings, load_settings
from docval.store import DocumentStore
from ledger import EntryDraft, Ledger


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _waiting(settings: Settings, count: int, *, required: int, tag: str) -> list[str]:
    """``count`` documents waiting for ``required`` approvals, written in bulk the way the pipeline leaves them."""
    docs = [hashlib.sha256(f"{tag}-{i}".encode()).hexdigest() for i in range(count)]
    deadline = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    drafts, store = [], DocumentStore(settings.store_db)
    with store.session() as session:
        for doc in docs:
            result = DocumentResult(
                doc=doc,
                source=f"{tag}.pdf",
                kind=DocKind.INVOICE,
                state=DocState.AWAITING_APPROVAL,
                decision=Decision(outcome=Outcome.NEEDS_APPROVAL, rule="bench"),
                ledger=LedgerSpan(first_seq=0, last_seq=0),
            )
            (settings.outbox / f"{doc}.json").write_text(result.to_json(), encoding="utf-8")
            session.claim(doc, doc[:16])
            session.update(doc, state=DocState.AWAITING_APPROVAL, kind=DocKind.INVOICE)
            requested = {
                "approvals_required": required,
                "deadline": deadline,
                "queue": "reviewer",
                "result_sha256": "0" * 64,
                "round": secrets.token_hex(16),
                "fields_sha256": fields_digest({}),
            }
            drafts += [
                EntryDraft("doc.claimed", doc, "alice", {"source_hash": doc[:16], "size": 1}),
                EntryDraft("doc.decided", doc, "docval", {"outcome": "needs_approval", "rule": "bench"}),
                EntryDraft("approval.requested", doc, "docval", requested),
            ]
    ledger = Ledger.open(settings)
    for start in range(0, len(drafts), 30_000):
        ledger.append_many(drafts[start : start + 30_000])
    ledger.checkpoint()
    return docs


def _timed(call, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="docval-approvals-bench-"))
    (root / "home").mkdir()  # the demo people's keys go to its ~/.config, outside the data directory
    os.environ |= {"DOCVAL_DATA_DIR": str(root / "var"), "DOCVAL_CONFIG": str(root / "docval.toml"),
                   "HOME": str(root / "home")}  # fmt: skip
    from flows.appliance import prepare
    from flows.approvals.decide import decide
    from flows.approvals.enrol import demo_keys_dir
    from flows.approvals.pending import pending_rows
    from flows.approvals.publish import finish_decided

    settings = load_settings()
    prepare(settings)
    empty = _timed(lambda: pending_rows(settings))
    rss_before = _rss_mib()
    _waiting(settings, args.waiting, required=2, tag="waiting")
    listed = _timed(lambda: pending_rows(settings))
    rows = len(pending_rows(settings))
    rss_after = _rss_mib()
    print(f"docval pending: {rows} waiting {listed:.3f} s, none waiting {empty:.3f} s (bar ≤ 1 s)")
    print(f"process RSS: {rss_before:.0f} MiB before the backlog, {rss_after:.0f} MiB after listing it "
          f"(+{rss_after - rss_before:.0f} MiB; bar ≤ +100 MB); runs/processes per waiting document: 0")  # fmt: skip

    keys = demo_keys_dir(settings)
    quick = _waiting(settings, args.decisions + 1, required=1, tag="quick")
    decide(settings, quick[0], keys / "bob", "approve", "warm-up: loads the PII recognisers once")
    spans = []
    for doc in quick[1:]:
        start = time.perf_counter()
        decided = decide(settings, doc, keys / "bob", "approve", "matches the purchase order")
        assert decided.recorded is not None and decided.recorded.state.outcome == "publish", decided.message
        assert finish_decided(settings, doc, None) is DocState.PUBLISHED
        spans.append(time.perf_counter() - start)
    spans.sort()
    print(f"decision → published outbox (without the flow run's start): median {statistics.median(spans):.3f} s, "
          f"p95 {spans[int(0.95 * (len(spans) - 1))]:.3f} s over {len(spans)} (bar median ≤ 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()
