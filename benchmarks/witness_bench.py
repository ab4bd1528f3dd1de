"""Witness benchmark (issue 15): appends with witnessing on beside off, and checkpoints a witness cosigns/s.

    python benchmarks/witness_bench.py [--entries 500000] [--batch 10000] [--checkpoints 1000]

Appends: the same drafts go into two fresh ledgers in one run through a bulk-writer session
(``Ledger.writer``) with a signed checkpoint per batch; on one of them ``[ledger] witnesses`` names a real
``docval witness`` serving on 127.0.0.1, so at every release of the file lock (each
``writer_hold_seconds``) the latest checkpoint is submitted with its consistency proof and the
cosignature checked and stored. The ratio on/off is the cost of witnessing.

Cosigning: ``--checkpoints`` checkpoints of ``--logs`` real ledgers (one entry apart) are prepared with
their consistency proofs, then each log submits its own one after the other over HTTP, the logs at the
same time, to a fresh witness (it fsyncs its state file and folder before every answer); the baseline is the
same number of bare Ed25519 verify + sign pairs (the cryptography the witness must do), timed in the
same run.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from docval.settings import LedgerSettings  # noqa: E402
from ledger import EntryDraft, Ledger, init_keys  # noqa: E402
from ledger.bundle_verify import add_checkpoint  # noqa: E402
from ledger.keys import anchor_path  # noqa: E402
from ledger.witness import add_log, init_witness, serve  # noqa: E402
from ledger.witnessing import cosignature_lines, submit  # noqa: E402

BARS = {"appends_per_s": 50_000, "cosigns_per_s": 200}


def draft(i: int) -> EntryDraft:
    doc = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    return EntryDraft("doc.claimed", doc, "flows.watch", {"source_hash": doc[::-1], "size": 1000 + i % 5000})


def new_ledger(folder: Path, witnesses: list[str], batch: int) -> Ledger:
    folder.mkdir(parents=True, exist_ok=True)
    config = LedgerSettings(witnesses=witnesses, checkpoint_every=batch)
    if not (folder / "keys").exists():
        init_keys(folder / "keys", config.key_name)
    return Ledger(folder / "ledger.duckdb", folder / "keys", config).created()


def start_witness(folder: Path, ledger_keys: Path, origin: str) -> tuple[str, str, object]:
    key = init_witness(folder, "bench.example/w1")
    add_log(folder, origin, anchor_path(ledger_keys).read_text())
    server = serve(folder, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", str(key), server


def append_rate(ledger: Ledger, entries: int, batch: int) -> float:
    """The bulk writer's path: one session, a checkpoint per batch, witnesses asked at each lock release."""
    start = time.perf_counter()
    with ledger.writer() as writer:
        for low in range(0, entries, batch):
            writer.append_many([draft(i) for i in range(low, min(low + batch, entries))])
    return entries / (time.perf_counter() - start)


def appends(entries: int, batch: int, directory: Path) -> dict[str, float]:
    off = new_ledger(directory / "off", [], batch)
    init_keys(directory / "on" / "keys", LedgerSettings().key_name)
    url, key, server = start_witness(directory / "witness-a", directory / "on" / "keys", off.config.origin)
    on = new_ledger(directory / "on", [f"{url} {key}"], batch)
    figures = {"off_per_s": append_rate(off, entries, batch), "on_per_s": append_rate(on, entries, batch)}
    statuses = submit(on)
    server.shutdown()  # type: ignore[attr-defined]
    assert statuses and all(status.cosigned for status in statuses), statuses
    figures["cosigned"] = sum(map(len, cosignature_lines(on).values()))
    return figures


def cosigning(checkpoints: int, logs: int, directory: Path) -> dict[str, float]:
    """``logs`` ledgers submitting at once (one thread each, one after the other within a log)."""
    prepared: list[list[tuple[int, list[bytes], str]]] = []
    ledgers = []
    for number in range(logs):
        ledger = new_ledger(directory / f"log-{number}", [], 1)
        ledger = Ledger(ledger.db_path, ledger.keys_dir, ledger.config.model_copy(update={"origin": f"log.{number}"}))
        requests, previous = [], 0
        for i in range(checkpoints // logs):
            ledger.append_many([draft(i)])
            note = ledger.checkpoint()
            requests.append((previous, ledger.consistency_proof(previous, i + 1) if previous else [], note))
            previous = i + 1
        prepared.append(requests)
        ledgers.append(ledger)
    url, _, server = start_witness(directory / "witness-b", ledgers[0].keys_dir, ledgers[0].config.origin)
    for ledger in ledgers[1:]:
        add_log(directory / "witness-b", ledger.config.origin, anchor_path(ledger.keys_dir).read_text())

    def run(requests: list[tuple[int, list[bytes], str]]) -> None:
        for old, proof, note in requests:
            status, text = add_checkpoint(url, old, proof, note)
            assert status == 200, (status, text)

    threads = [threading.Thread(target=run, args=(requests,)) for requests in prepared]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    witnessed = sum(map(len, prepared)) / (time.perf_counter() - start)
    server.shutdown()  # type: ignore[attr-defined]
    key = Ed25519PrivateKey.generate()
    public, message = key.public_key(), b"x" * 120
    signature = key.sign(message)
    start = time.perf_counter()
    for _ in range(checkpoints):
        public.verify(signature, message)
        key.sign(message)
    return {"cosigns_per_s": witnessed, "crypto_per_s": checkpoints / (time.perf_counter() - start)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=10_000, help="entries per append_many, one checkpoint each")
    parser.add_argument("--checkpoints", type=int, default=1000)
    parser.add_argument("--logs", type=int, default=4, help="logs submitting to the witness at the same time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        append = appends(args.entries, args.batch, Path(folder))
        cosign = cosigning(args.checkpoints, args.logs, Path(folder))
    on, off = append["on_per_s"], append["off_per_s"]
    lines = [
        f"appends, {args.entries:,} entries in batches of {args.batch:,}, a checkpoint per batch:",
        f"  witnessing off {off:,.0f}/s, on {on:,.0f}/s (on/off {on / off:.3f}); "
        f"bar {BARS['appends_per_s']:,}/s: {'PASS' if on >= BARS['appends_per_s'] else 'FAIL'}",
        f"  {append['cosigned']:,} cosignatures stored (one per writer hold, of its latest checkpoint)",
        f"witness, {args.checkpoints:,} checkpoints of {args.logs} logs at once over HTTP, each with its proof:",
        f"  {cosign['cosigns_per_s']:,.0f} cosigned/s (bare Ed25519 verify+sign {cosign['crypto_per_s']:,.0f}/s, "
        f"ratio {cosign['cosigns_per_s'] / cosign['crypto_per_s']:.3f}); "
        f"bar {BARS['cosigns_per_s']}/s: {'PASS' if cosign['cosigns_per_s'] >= BARS['cosigns_per_s'] else 'FAIL'}",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
