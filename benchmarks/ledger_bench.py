"""Ledger benchmark (issue 2): appends/s, full verify, proof latency, file size, against bare SHA-256.

    python benchmarks/ledger_bench.py [--entries 1000000] [--batch 10000] [--proofs 300]
                                      [--shards 3] [--shard-entries 100000]

The baseline is the physical limit of the work every append must do: hashing
the canonical entry bytes once (SHA-256 of 0x00 || entry). It is re-timed once
per append batch (just before the writer session, and before each short-lived
append and verify), on the same entry bytes, so the load other jobs put on the
machine affects both sides of each ratio alike.

Shards (issue 7): ``--shards`` ledgers of ``--shard-entries`` entries each,
then one anchor pass into a root ledger (first anchoring), one more batch per
shard and a second pass (consistency proofs from the anchored size), and the
installation-wide verify, against verifying the same ledgers one by one in the
same run (wall and CPU time: the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import rfc8785  # noqa: E402

from docval.settings import LedgerSettings, Settings  # noqa: E402
from docval.shards import shard_settings  # noqa: E402
from ledger import EntryDraft, Ledger, anchor_shards, init_keys, merkle, verify_installation  # noqa: E402
from ledger.bundle_verify import Checkpoint, split_note  # noqa: E402
from ledger.canonical import canonical_json  # noqa: E402

BARS = {"appends_per_s": 50_000, "verify_s_per_million": 10.0, "proof_ms": 1.0}


def demo_draft(i: int) -> EntryDraft:
    """A typical flows entry: keyed hashes and counts, no content."""
    doc = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    data = {"source_hash": hashlib.sha256(b"name" + i.to_bytes(8, "big")).hexdigest(), "size": 1000 + i % 5000}
    return EntryDraft("doc.claimed", doc, "flows.watch", data)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(entries: int, batch: int, proofs: int, directory: Path) -> dict[str, float]:
    settings = Settings(data_dir=directory, ledger=LedgerSettings(checkpoint_every=batch, checkpoint_seconds=3600))
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    figures: dict[str, float] = {}

    sample = [demo_draft(i) for i in range(min(entries, 50_000))]
    envelopes = [
        {"seq": i, "prev": "0" * 64, "ts": "2026-01-01T00:00:00.000000Z", "kind": d.kind, "doc": d.doc,
         "actor": d.actor, "data": d.data}
        for i, d in enumerate(sample)
    ]  # fmt: skip
    bodies = [canonical_json(envelope) for envelope in envelopes]
    figures["entry_bytes"] = statistics.mean(map(len, bodies))

    def sha256_seconds(count: int) -> float:
        """The baseline, re-measured next to each measurement so both see the same machine load."""
        chunk = (bodies * (count // len(bodies) + 1))[:count]
        return timed(lambda: [hashlib.sha256(b"\0" + body).digest() for body in chunk])

    subset = envelopes[:10_000]
    figures["rfc8785_per_s"] = rate(len(subset), timed(lambda: [rfc8785.dumps(e) for e in subset]))
    figures["fast_canonical_per_s"] = rate(len(subset), timed(lambda: [canonical_json(e) for e in subset]))

    # The worker appends through one bulk-writer session; occasional writers open a connection per batch.
    # The session's drafts are built before it starts and the whole session is timed, close included: its
    # timer thread may write the WAL out while the owner does other work, and that must count too.
    short_start = max(entries - 5 * batch, entries * 4 // 5) // batch * batch
    session_batches = [
        [demo_draft(i) for i in range(low, min(low + batch, short_start))] for low in range(0, short_start, batch)
    ]
    baseline_seconds = sum(sha256_seconds(len(drafts)) for drafts in session_batches)

    def append_in_session() -> None:
        with ledger.writer() as writer:
            for drafts in session_batches:
                writer.append_many(drafts)

    session_seconds = timed(append_in_session)
    session_batches.clear()  # free the memory before verify
    short_seconds = 0.0
    for low in range(short_start, entries, batch):
        drafts = [demo_draft(i) for i in range(low, min(low + batch, entries))]  # built outside the timing
        baseline_seconds += sha256_seconds(len(drafts))
        short_seconds += timed(lambda drafts=drafts: ledger.append_many(drafts))
    ledger.checkpoint()
    figures["sha256_leaves_per_s"] = rate(entries, baseline_seconds)
    figures["appends_per_s"] = rate(short_start, session_seconds)
    figures["short_appends_per_s"] = rate(entries - short_start, short_seconds)
    figures["append_vs_sha256"] = figures["appends_per_s"] / figures["sha256_leaves_per_s"]
    figures["checkpoints"] = len(ledger.checkpoints())
    db_bytes = sum(path.stat().st_size for path in directory.glob("ledger.duckdb*") if path.is_file())
    figures["mb_per_million"] = db_bytes / entries * 1_000_000 / 1e6

    report_holder = []
    figures["verify_sha256_s"] = sha256_seconds(entries)
    figures["verify_s"] = timed(lambda: report_holder.append(ledger.verify()))
    if not report_holder[0].ok:
        raise SystemExit(f"verify failed: {report_holder[0].summary()}")
    figures["verify_s_per_million"] = figures["verify_s"] / entries * 1_000_000

    note = ledger.latest_checkpoint()
    assert note is not None
    checkpoint = Checkpoint.parse(split_note(note)[0])
    rng = random.Random(7)
    inclusion, consistency, inclusion_open = [], [], []
    floor = []
    with ledger.reader() as reader:
        for _ in range(proofs):
            floor.append(timed(lambda: reader.con.execute("SELECT 1").fetchall()))
            seq = rng.randrange(entries)
            start = time.perf_counter()
            path = reader.inclusion_proof(seq, entries)
            inclusion.append(time.perf_counter() - start)
            old = rng.randrange(1, entries)
            start = time.perf_counter()
            reader.consistency_proof(old, entries)
            consistency.append(time.perf_counter() - start)
            if seq % 7 == 0:
                body = next(reader.entries(seq, seq + 1)).canonical
                merkle.verify_inclusion(seq, entries, merkle.leaf_hash(body), path, checkpoint.root)
    for _ in range(max(proofs // 10, 5)):
        inclusion_open.append(timed(lambda: ledger.inclusion_proof(rng.randrange(entries), entries)))
    figures["inclusion_proof_ms"] = median_ms(inclusion)
    figures["consistency_proof_ms"] = median_ms(consistency)
    figures["inclusion_proof_with_open_ms"] = median_ms(inclusion_open)
    figures["query_floor_ms"] = median_ms(floor)
    return figures


def cpu_timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: user + sys)."""
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_shards(count: int, entries: int, batch: int, directory: Path) -> dict[str, float]:
    settings = Settings(data_dir=directory, ledger=LedgerSettings(checkpoint_every=batch, checkpoint_seconds=3600))
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    shards = []
    for number in range(count):
        shard = shard_settings(settings, f"w{number + 1}")
        shard.ensure_dirs()
        init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
        shards.append(Ledger.open(shard))
        with shards[-1].writer() as writer:
            for low in range(0, entries, batch):
                writer.append_many([demo_draft(i) for i in range(low, min(low + batch, entries))])
    figures: dict[str, float] = {}

    def anchor(expected: str) -> None:
        report = anchor_shards(settings)
        if [outcome.status for outcome in report.outcomes] != [expected] * count:
            raise SystemExit(f"anchor pass: {report.summary()}")

    figures["anchor_first_s"], figures["anchor_first_cpu_s"] = cpu_timed(lambda: anchor("anchored"))
    for shard in shards:
        with shard.writer() as writer:
            writer.append_many([demo_draft(i) for i in range(entries, entries + batch)])
    figures["anchor_second_s"], figures["anchor_second_cpu_s"] = cpu_timed(lambda: anchor("anchored"))
    figures["anchor_unchanged_s"], _ = cpu_timed(lambda: anchor("unchanged"))
    reports = []
    figures["verify_all_s"], figures["verify_all_cpu_s"] = cpu_timed(
        lambda: reports.append(verify_installation(settings))
    )
    if not reports[0].ok:
        raise SystemExit(f"verify failed: {reports[0].summary()}")
    figures["verify_each_s"], figures["verify_each_cpu_s"] = cpu_timed(
        lambda: [ledger.verify() for ledger in [Ledger.open(settings), *shards]]
    )
    return figures


def report_shards(count: int, entries: int, figures: dict[str, float]) -> list[str]:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    total = count * entries
    return [
        f"shards: {count} x {entries:,} entries, load average {load}",
        f"anchor pass, first anchoring of {count} shards: {figures['anchor_first_s']:.3f} s "
        f"(CPU {figures['anchor_first_cpu_s']:.3f} s)",
        f"anchor pass after one more batch per shard (consistency proofs): {figures['anchor_second_s']:.3f} s "
        f"(CPU {figures['anchor_second_cpu_s']:.3f} s); nothing new: {figures['anchor_unchanged_s']:.3f} s",
        f"verify over root + {count} shards ({total:,} entries): {figures['verify_all_s']:.2f} s "
        f"(CPU {figures['verify_all_cpu_s']:.2f} s) = {figures['verify_all_s'] / figures['verify_each_s']:.2f} x "
        f"verifying each ledger alone ({figures['verify_each_s']:.2f} s, CPU {figures['verify_each_cpu_s']:.2f} s)",
    ]


def report(entries: int, figures: dict[str, float]) -> list[str]:
    def bar(ok: bool) -> str:
        return "meets bar" if ok else "MISSES bar"

    full = entries >= 1_000_000
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return [
        f"machine: {os.cpu_count()} cores, load average {load} (other jobs share it: compare ratios, not rates)",
        f"entries: {entries:,} ({figures['entry_bytes']:.0f} bytes each), "
        f"checkpoints signed: {figures['checkpoints']:.0f}",
        f"baseline bare SHA-256 leaf hashing: {figures['sha256_leaves_per_s']:,.0f}/s",
        f"canonical JSON: rfc8785 {figures['rfc8785_per_s']:,.0f}/s, "
        f"fast path {figures['fast_canonical_per_s']:,.0f}/s",
        f"appends into DuckDB with batch checkpoints: {figures['appends_per_s']:,.0f}/s "
        f"= {figures['append_vs_sha256']:.3f} x bare SHA-256 ({bar(figures['appends_per_s'] >= BARS['appends_per_s'])}"
        f" >= {BARS['appends_per_s']:,}/s; one bulk-writer session)",
        f"appends with a short-lived connection per batch (occasional writers, last batches): "
        f"{figures['short_appends_per_s']:,.0f}/s",
        f"full verify: {figures['verify_s']:.2f} s = {figures['verify_s_per_million']:.2f} s per million "
        f"= {figures['verify_s'] / figures['verify_sha256_s']:.1f} x the time to SHA-256 every entry once "
        f"({bar(figures['verify_s_per_million'] <= BARS['verify_s_per_million'])} <= 10 s)",
        f"median inclusion proof at {entries:,}: {figures['inclusion_proof_ms']:.3f} ms, consistency proof: "
        f"{figures['consistency_proof_ms']:.3f} ms "
        f"({bar(max(figures['inclusion_proof_ms'], figures['consistency_proof_ms']) <= BARS['proof_ms'])} <= 1 ms"
        f"{'' if full else '; bar is for 1,000,000'})",
        f"DuckDB floor (median SELECT 1 on the same connection): {figures['query_floor_ms']:.3f} ms; "
        f"inclusion proof incl. opening the database: {figures['inclusion_proof_with_open_ms']:.3f} ms",
        f"DuckDB file size: {figures['mb_per_million']:.1f} MB per million entries",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="entries per append_many and per checkpoint")
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--shards", type=int, default=3, help="ledger shards for the anchor/verify figures; 0 skips")
    parser.add_argument("--shard-entries", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        figures = run(args.entries, args.batch, args.proofs, Path(tmp))
    for line in report(args.entries, figures):
        print(line)
    if args.shards:
        with tempfile.TemporaryDirectory(prefix="ledger-bench-shards-") as tmp:
            shard_figures = run_shards(args.shards, args.shard_entries, args.batch, Path(tmp))
        for line in report_shards(args.shards, args.shard_entries, shard_figures):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
