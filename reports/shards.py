"""The ledger shards a report covers besides the root, read up to the checkpoint the root anchored last.

A report is based on one root checkpoint; the root commits to each shard
through its last ``anchor.checkpoint`` entry below that checkpoint, so each
shard is read (and, for a bundle, exported to ``bundle/shards/<name>/``)
exactly up to that anchored checkpoint: every figure is then covered by the
one signed root. A shard on disk that the root has not anchored yet cannot be
covered: it is listed as a problem, which makes the report INCOMPLETE until
the next anchor pass (``docval ledger anchor``).

The KPIs, the completeness statement and the lineage fold the entries of all
ledgers in time order (a document may be claimed by one worker and approved
on another); each lineage row names the ledger and seqs its entries are at.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from docval.settings import Settings
from docval.shards import shard_names
from ledger import Entry
from ledger.bundle_verify import ANCHOR_CHECKPOINT, SHARDS_DIR, Checkpoint, checkpoint_line, ordered_rows, split_note
from ledger.export import export_bundle
from ledger.shards import open_shard
from reports.bundle import write_doc_proofs
from reports.lineage import LedgerFacts, fold_entries
from reports.proofs import MemoryTree

__all__ = ["ShardPart", "Shards", "read_shards", "seqs_by_doc"]

ROOT = "root"
Row = tuple[str, str, str | None]


@dataclass(slots=True)
class ShardPart:
    """One shard's entries up to its anchored checkpoint."""

    name: str
    note: str
    checkpoint: Checkpoint
    bodies: list[bytes] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


@dataclass(slots=True)
class Shards:
    """Every shard of a report, what could not be covered, and the facts folded over root and shards."""

    parts: list[ShardPart]
    problems: list[str]
    facts: LedgerFacts | None = None
    rows: list[Row] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # doc -> "w1 12–19; w2 4"

    def statement_lines(self) -> dict[str, str]:
        return {part.name: checkpoint_line(part.checkpoint) for part in self.parts}

    def write_proofs(self, bundle_dir: Path, docs: set[str]) -> None:
        """``shards/<name>/proofs/<doc>.proof`` for the entries of in-scope documents each shard holds."""
        for part in self.parts:
            tree = MemoryTree(part.leaves)
            write_doc_proofs(
                bundle_dir / SHARDS_DIR / part.name, tree, part.bodies, seqs_by_doc(part.rows, docs), part.note
            )


def read_shards(settings: Settings, root_bodies: list[bytes], root_rows: list[Row], bundle_dir: Path | None) -> Shards:
    """The shards anchored by the root entries the report reads, folded together with the root's entries."""
    anchored = _anchored_notes(root_bodies, root_rows)
    on_disk = {name for name in shard_names(settings) if open_shard(settings, name).latest_checkpoint()}
    problems = [
        f"ledger shard {name} has signed entries the root has not anchored yet; run `docval ledger anchor`"
        for name in sorted(on_disk - anchored.keys())
    ]
    parts = [_read_part(settings, name, note, bundle_dir) for name, note in sorted(anchored.items())]
    shards = Shards(parts, problems)
    if parts:
        ledgers = [(ROOT, root_bodies), *((part.name, part.bodies) for part in parts)]
        shards.facts = fold_entries(_in_time_order(ledgers))
        shards.rows = ordered_rows([root_rows, *(part.rows for part in parts)])
        shards.where = _where([(ROOT, root_rows), *((part.name, part.rows) for part in parts)])
    return shards


def _anchored_notes(bodies: list[bytes], rows: list[Row]) -> dict[str, str]:
    """Shard name -> the checkpoint note of its last ``anchor.checkpoint`` entry among the root's entries."""
    notes: dict[str, str] = {}
    for index, (_, kind, _) in enumerate(rows):
        if kind == ANCHOR_CHECKPOINT:
            data = orjson.loads(bodies[index])["data"]
            notes[data["shard"]] = data["checkpoint"]
    return notes


def _read_part(settings: Settings, name: str, note: str, bundle_dir: Path | None) -> ShardPart:
    ledger = open_shard(settings, name)
    checkpoint = Checkpoint.parse(split_note(note)[0])
    part = ShardPart(name, note, checkpoint)
    if bundle_dir is not None:
        folder = bundle_dir / SHARDS_DIR / name
        export_bundle(ledger, folder, note, manifest=False)
        (folder / "verify.py").unlink()  # the bundle's own verify.py and manifest cover the shards
        with (folder / "entries.jsonl").open("rb") as handle:
            entries: Iterator[Entry] = (Entry.from_canonical(line[:-1]) for line in handle.readlines())
    else:
        entries = ledger.entries(0, checkpoint.size)
    for entry in entries:
        part.bodies.append(entry.canonical)
        part.leaves.append(entry.leaf_hash)
        part.rows.append((entry.ts, entry.kind, entry.doc))
    return part


def _in_time_order(ledgers: list[tuple[str, list[bytes]]]) -> Iterator[Entry]:
    """All ledgers' entries merged by time; each ledger is in time order already (ts is taken under its lock)."""
    streams = [map(Entry.from_canonical, bodies) for _, bodies in ledgers]
    return heapq.merge(*streams, key=lambda entry: entry.ts)


def seqs_by_doc(rows: list[Row], docs: set[str]) -> dict[str, list[int]]:
    """The seqs of each listed document's entries among one ledger's rows (what its proof file proves)."""
    seqs: dict[str, list[int]] = {}
    for seq, (_, _, doc) in enumerate(rows):
        if doc in docs:
            seqs.setdefault(doc, []).append(seq)
    return seqs


def _where(ledgers: list[tuple[str, list[Row]]]) -> dict[str, str]:
    """Per document, the ledger(s) and seq range(s) its entries are at, e.g. ``w1 12–19; w2 4``."""
    spans: dict[str, list[str]] = {}
    for name, rows in ledgers:
        for doc, seqs in seqs_by_doc(rows, {doc for _, _, doc in rows if doc}).items():
            low, high = min(seqs), max(seqs)
            spans.setdefault(doc, []).append(f"{name} {low}–{high}" if high > low else f"{name} {low}")
    return {doc: "; ".join(parts) for doc, parts in spans.items()}
