"""The ledger shards a report covers besides the root, read up to the checkpoint the root anchored last.

A report is based on one root checkpoint; the root commits to each shard
through its last ``anchor.checkpoint`` entry below that checkpoint, so each
shard is read (and, for a bundle, exported to ``bundle/shards/<name>/``)
exactly up to that anchored checkpoint: every figure is then covered by the
one signed root. A shard on disk that the root has not anchored yet cannot be
covered: it is listed as a problem, which makes the report INCOMPLETE until
the next anchor pass (``docval ledger anchor``).

Shards are read, folded and proved exactly as the root is (``reports.ledgers``):
the KPIs, the completeness statement and the lineage fold the entries of all
ledgers in time order (a document may be claimed by one worker and approved
on another); each lineage row names the ledger and seqs its entries are at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from docval.settings import Settings
from docval.shards import shard_names
from ledger.bundle_verify import ANCHOR_CHECKPOINT, SHARDS_DIR, checkpoint_line
from ledger.shards import open_shard
from reports.ledgers import LedgerPart, read_part, seqs_by_doc, write_part_proofs

__all__ = ["Shards", "read_shards", "spans"]

# How an anchor entry's canonical bytes (RFC 8785: sorted keys, no blanks) spell its kind: a cheap
# filter, so the root's entries need not be decoded before the one fold that decodes every entry.
_ANCHOR_MARK = b'"kind":"' + ANCHOR_CHECKPOINT.encode() + b'"'


@dataclass(slots=True)
class Shards:
    """Every shard of a report and what could not be covered."""

    parts: list[LedgerPart]
    problems: list[str]

    def statement_lines(self) -> dict[str, str]:
        return {part.name: checkpoint_line(part.checkpoint) for part in self.parts}

    def write_proofs(self, bundle_dir: Path, docs: set[str]) -> dict[str, str]:
        """``shards/<name>/proofs/<doc>.proof`` for the in-scope documents each shard holds; digests by bundle name."""
        digests: dict[str, str] = {}
        for part in self.parts:
            prefix = f"{SHARDS_DIR}/{part.name}/"
            digests |= write_part_proofs(part, bundle_dir / SHARDS_DIR / part.name, docs, prefix)
        return digests


def read_shards(settings: Settings, root: LedgerPart, bundle_dir: Path | None) -> Shards:
    """The shards anchored by the root entries the report reads, each up to its anchored checkpoint."""
    anchored = _anchored_notes(root.bodies)
    on_disk = {name for name in shard_names(settings) if open_shard(settings, name).latest_checkpoint()}
    problems = [
        f"ledger shard {name} has signed entries the root has not anchored yet; run `docval ledger anchor`"
        for name in sorted(on_disk - anchored.keys())
    ]
    return Shards([_read_shard(settings, name, note, bundle_dir) for name, note in sorted(anchored.items())], problems)


def _anchored_notes(bodies: list[bytes]) -> dict[str, str]:
    """Shard name -> the checkpoint note of its last ``anchor.checkpoint`` entry among the root's entries."""
    notes: dict[str, str] = {}
    for body in bodies:
        if _ANCHOR_MARK in body:
            entry = orjson.loads(body)
            if entry["kind"] == ANCHOR_CHECKPOINT:  # not merely the same words inside another entry's data
                notes[entry["data"]["shard"]] = entry["data"]["checkpoint"]
    return notes


def _read_shard(settings: Settings, name: str, note: str, bundle_dir: Path | None) -> LedgerPart:
    folder = None if bundle_dir is None else bundle_dir / SHARDS_DIR / name
    part = read_part(open_shard(settings, name), name, folder, note)
    if folder is not None:
        (folder / "verify.py").unlink()  # the bundle's own verify.py and manifest cover the shards
    return part


def spans(parts: list[LedgerPart]) -> dict[str, str]:
    """Per document, the ledger(s) and seq range(s) its entries are at, e.g. ``w1 12–19; w2 4``."""
    found: dict[str, list[str]] = {}
    for part in parts:
        for doc, seqs in seqs_by_doc(part.rows, {doc for _, _, doc in part.rows if doc}).items():
            low, high = seqs[0], seqs[-1]
            found.setdefault(doc, []).append(f"{part.name} {low}–{high}" if high > low else f"{part.name} {low}")
    return {doc: "; ".join(places) for doc, places in found.items()}
