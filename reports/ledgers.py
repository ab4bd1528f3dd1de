"""The ledgers one report reads — the root and every shard it anchored — each up to one signed checkpoint.

Root and shards go through the same three steps, so a document costs the
same wherever a worker wrote it (in a cluster every document is in a shard):

* ``read_part`` takes a ledger's entry bytes up to its checkpoint; with a
  bundle it exports first and reads the exported file back, hashing it as
  read, so every figure is recomputable from exactly those bytes;
* ``fold_parts`` decodes each entry once (orjson, no ``Entry`` objects, no
  payload models: ``LineageFolder(validate=False)`` reads payloads through
  ``reports.payloads``) and feeds the fold all ledgers merged by timestamp,
  ties root first and then shards by name, as ``ordered_rows`` and the
  auditor's verify.py order them; on the way it records each ledger's
  ``(ts, kind, doc)`` rows for completeness counts and proofs;
* ``write_part_proofs`` checks that the entries hash to the checkpoint root,
  writes the per-document proofs and returns the SHA-256 of every file it
  wrote or read, so the manifest never reads a bundle back.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from ledger import Ledger
from ledger.bundle_verify import Checkpoint, leaf_hash, split_note
from ledger.export import export_bundle
from reports.bundle import write_doc_proofs
from reports.errors import ReportError
from reports.lineage import LedgerFacts, LineageFolder
from reports.proofs import MemoryTree

__all__ = ["ENTRIES_FILE", "ROOT", "LedgerPart", "Row", "fold_parts", "read_part", "seqs_by_doc", "write_part_proofs"]

ROOT = "root"
ENTRIES_FILE = "entries.jsonl"
Row = tuple[str, str, str | None]  # ts, kind, doc: what completeness counts and proofs need of an entry
_Fields = tuple[int, str, str, str | None, str, Any, str | None]  # seq, ts, kind, doc, actor, data, shard


@dataclass(slots=True)
class LedgerPart:
    """One ledger's entries up to one checkpoint: exact bytes (what proofs are built from) and, once folded, rows."""

    name: str
    note: str
    checkpoint: Checkpoint
    bodies: list[bytes]
    entries_sha256: str | None = None  # of entries.jsonl as exported and read, with a bundle
    rows: list[Row] = field(default_factory=list)  # filled by fold_parts, in seq order


def read_part(ledger: Ledger, name: str, folder: Path | None, note: str | None = None) -> LedgerPart:
    """Entries up to ``note`` (default: the latest checkpoint); with ``folder``, exported there and read back."""
    if folder is None:
        note = note or ledger.latest_checkpoint()
        if note is None:
            raise ReportError("the ledger has no signed checkpoint yet: nothing can be reported as verified")
        checkpoint = Checkpoint.parse(split_note(note)[0])
        return LedgerPart(name, note, checkpoint, [entry.canonical for entry in ledger.entries(0, checkpoint.size)])
    checkpoint = export_bundle(ledger, folder, note, manifest=False)
    exported = (folder / ENTRIES_FILE).read_bytes()
    digest = hashlib.sha256(exported).hexdigest()
    bodies = exported.split(b"\n")
    del exported
    bodies.pop()  # every line ends in \n: nothing follows the last one
    return LedgerPart(name, (folder / "checkpoint").read_text(encoding="utf-8"), checkpoint, bodies, digest)


def fold_parts(parts: list[LedgerPart]) -> LedgerFacts:
    """Every entry of every part once, in time order, into one lineage fold; fills each part's ``rows``.

    Each ledger is in time order already (ts is taken under its lock), so a merge by ts orders them all;
    ``heapq.merge`` keeps the parts' order on equal timestamps, and passes a single part straight through.
    """
    folder = LineageFolder(validate=False)
    for seq, ts, kind, doc, actor, data, shard in heapq.merge(*map(_decoded, parts), key=itemgetter(1)):
        folder.add(seq, ts, kind, doc, actor, data, shard)
    return folder.facts


def _decoded(part: LedgerPart) -> Iterator[_Fields]:
    rows = part.rows = []
    shard = None if part.name == ROOT else part.name
    for body in part.bodies:
        entry = orjson.loads(body)
        ts, kind, doc = entry["ts"], entry["kind"], entry["doc"]
        rows.append((ts, kind, doc))
        yield entry["seq"], ts, kind, doc, entry["actor"], entry["data"], shard


def seqs_by_doc(rows: list[Row], docs: set[str]) -> dict[str, list[int]]:
    """The seqs of each listed document's entries among one ledger's rows (what its proof file proves)."""
    seqs: dict[str, list[int]] = {}
    for seq, (_, _, doc) in enumerate(rows):
        if doc in docs:
            seqs.setdefault(doc, []).append(seq)
    return seqs


def write_part_proofs(part: LedgerPart, directory: Path, docs: set[str], prefix: str = "") -> dict[str, str]:
    """``directory/proofs/<doc>.proof`` for the listed documents this ledger holds entries of.

    Returns the SHA-256 of those files and of entries.jsonl by bundle name (``prefix`` + name in
    ``directory``), for the manifest.
    """
    tree = MemoryTree([leaf_hash(body) for body in part.bodies])
    if tree.root != part.checkpoint.root:
        raise ReportError(
            f"ledger {part.name}: exported entries do not hash to the signed checkpoint root; "
            "run `docval ledger verify`"
        )
    digests = write_doc_proofs(directory, tree, part.bodies, seqs_by_doc(part.rows, docs), part.note)
    if part.entries_sha256 is not None:
        digests[ENTRIES_FILE] = part.entries_sha256
    return {prefix + name: digest for name, digest in digests.items()}
