"""The evidence bundle around the ledger export: proofs, statement, report files, manifest, deterministic zip.

``ledger`` writes its part (entries.jsonl, checkpoint, ledger.vkey, verify.py,
manifest.json); this module adds what an auditor needs for the report:
``proofs/<doc>/<seq>.proof`` for every entry of every document in scope, the signed completeness
statement, an optional consistency proof from an earlier checkpoint, the
report files and a README; reports.generate then writes the manifest over everything.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from ledger.bundle_verify import Checkpoint, split_note
from reports.proofs import MemoryTree, format_proof

__all__ = ["BUNDLE_NAMES", "write_consistency", "write_doc_proofs", "write_readme", "zip_bundle"]

BUNDLE_NAMES = {
    "statement": "completeness.note",
    "previous": "previous-checkpoint",
    "consistency": "consistency.proof",
    "readme": "README.md",
    "proofs": "proofs",
}
CONSISTENCY_HEADER = "docval.consistency/v1"
_ZIP_LEVEL = 1  # entries.jsonl is mostly hashes: level 6 saves ~10 % size at ~4x the time
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: no clock in the archive, same bytes every time


def write_doc_proofs(
    directory: Path, tree: MemoryTree, bodies: list[bytes], seqs_by_doc: dict[str, list[int]], checkpoint_note: str
) -> dict[str, str]:
    """``proofs/<doc>/<seq>.proof`` for each entry of each document: a C2SP tlog-proof (the entry as its one
    ``extra`` line, its ``index``, the RFC 9162 audit path, the checkpoint) any C2SP parser reads. Returns
    each file's SHA-256 by bundle name, for the manifest."""
    folder = directory / BUNDLE_NAMES["proofs"]
    folder.mkdir(exist_ok=True)
    digests: dict[str, str] = {}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for doc, seqs in seqs_by_doc.items():
        doc_folder = os.path.join(folder, doc)
        os.mkdir(doc_folder)
        for seq in seqs:  # os-level writes: a million small files, where open()'s buffering only costs
            data = format_proof(bodies[seq], seq, tree.audit_path(seq), checkpoint_note)
            fd = os.open(os.path.join(doc_folder, f"{seq}.proof"), flags, 0o666)  # umask applies, as with open()
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            digests[f"{BUNDLE_NAMES['proofs']}/{doc}/{seq}.proof"] = hashlib.sha256(data).hexdigest()
    return digests


def write_consistency(directory: Path, previous_note: str, proof: Iterable[bytes], current: Checkpoint) -> None:
    """The earlier checkpoint as given and an RFC 9162 consistency proof from it to the bundle's checkpoint."""
    old = Checkpoint.parse(split_note(previous_note)[0])
    lines = [
        CONSISTENCY_HEADER,
        f"old {old.size} {base64.b64encode(old.root).decode()}",
        f"new {current.size} {base64.b64encode(current.root).decode()}",
        *(base64.b64encode(node).decode() for node in proof),
    ]
    (directory / BUNDLE_NAMES["previous"]).write_text(previous_note, encoding="utf-8")
    (directory / BUNDLE_NAMES["consistency"]).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_readme(directory: Path) -> None:
    text = files("reports").joinpath("templates/AUDITOR-README.md").read_text(encoding="utf-8")
    (directory / BUNDLE_NAMES["readme"]).write_text(text, encoding="utf-8")


def zip_bundle(directory: Path, target: Path) -> None:
    """A zip that depends only on the files' names and bytes: sorted, fixed time and mode, fixed compression.

    Proof files (below the root's ``proofs/`` and every shard's ``shards/<name>/proofs/``) are stored, not
    deflated: they are base64 and hashes (deflate saves ~25 %), and a fresh compressor per small file costs
    more than the rest of the zip; the big files are deflated.
    """
    root = str(directory)
    names = sorted(
        os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
        for folder, _, files in os.walk(root)
        for name in files
    )
    with zipfile.ZipFile(target, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(f"{directory.name}/{name}", _ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            stored = f"/{BUNDLE_NAMES['proofs']}/" in f"/{name}"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with open(os.path.join(root, name), "rb") as handle:
                archive.writestr(info, handle.read(), compresslevel=None if stored else _ZIP_LEVEL)
