"""Three worker processes race to claim 1,000 files from one shared inbox: each claimed exactly once.

Real processes, real files, the real claim path (``Worker.claim``: atomic
rename into the shared ``work/`` under the document store's file lock) and
each process writing its own ledger shard, as cluster workers do. The files
are listed in a different order by each process and claimed in chunks of 50
(a flow run's share), so the processes interleave. Twenty extra files repeat
the bytes of others under new names: whichever process meets the second copy
records a duplicate. Cost: ~15-25 s (three model loads + 1,060 ledger entries).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from docval.settings import Settings
from docval.shards import shard_env, shard_settings
from docval.store import DocumentStore
from flows.cluster.dispatcher import worker_names

DOCS = 1000
DUPLICATES = 20

_CLAIMER = """
import json, random, sys, time
from pathlib import Path
from docval.settings import load_settings
from flows.batch import build_context
from flows.worker import Worker

seed, go = int(sys.argv[1]), Path(sys.argv[2])
ctx = build_context(load_settings())
worker = Worker(ctx, process=None, request_approvals=None)
ctx.settings.inbox.joinpath(f".ready-{seed}").touch()
while not go.exists():
    time.sleep(0.01)
paths = sorted(p for p in ctx.settings.inbox.iterdir() if not p.name.startswith("."))
random.Random(seed).shuffle(paths)
claimed = []
for start in range(0, len(paths), 50):
    claimed += worker.claim(paths[start : start + 50])
ctx.audit.checkpoint()
print(json.dumps({"claimed": claimed, "skipped": worker.taken_elsewhere}))
"""


def _ledger_kinds(settings: Settings, name: str) -> list[tuple[str, str | None]]:
    from ledger import Ledger

    ledger = Ledger.open(shard_settings(settings, name))
    assert ledger.verify().ok
    return [(str(entry.kind), entry.doc) for entry in ledger.entries()]


def test_three_processes_claim_each_of_1000_files_exactly_once(settings: Settings) -> None:
    from flows.appliance import prepare

    prepare(settings)
    for index in range(DOCS):
        (settings.inbox / f"doc-{index:04d}.pdf").write_bytes(b"%PDF-1.4\n% claim race " + str(index).encode())
    for index in range(DUPLICATES):
        (settings.inbox / f"copy-{index:04d}.pdf").write_bytes(b"%PDF-1.4\n% claim race " + str(index).encode())
    names = worker_names(3)
    for name in names:
        prepare(shard_settings(settings, name))
    go = settings.data_dir / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, str(seed), str(go)],
            env={**os.environ, **shard_env(settings, name)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed, name in enumerate(names)
    ]
    deadline = time.monotonic() + 120
    while len(list(settings.inbox.glob(".ready-*"))) < len(names):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), "a claimer did not start"
        time.sleep(0.05)
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    claimed = [doc for result in results for doc in result["claimed"]]
    assert len(claimed) == len(set(claimed)) == DOCS  # nothing claimed twice, nothing lost
    assert sum(1 for result in results if result["claimed"]) >= 2, "the processes did not actually race"
    assert not [p for p in settings.inbox.iterdir() if not p.name.startswith(".")]
    assert {p.stem for p in settings.work_dir.glob("*.pdf")} == set(claimed)
    assert {record.doc for record in DocumentStore(settings.store_db).all()} == set(claimed)

    entries = [entry for name in names for entry in _ledger_kinds(settings, name)]
    claims = [doc for kind, doc in entries if kind == "doc.claimed"]
    assert sorted(claims) == sorted(claimed)
    assert sum(1 for kind, _ in entries if kind == "doc.duplicate") == DUPLICATES
