"""The evidence bundle around the ledger export: proofs, statement, report files, manifest, deterministic zip.

``ledger`` writes its part (entries.jsonl, checkpoint, ledger.vkey, verify.py,
manifest.json); this module adds what an auditor needs for the report:
``proofs/<doc>/<seq>.proof`` for every entry of every document in scope, the signed completeness
statement, an optional consistency proof from an earlier checkpoint, the
report files and a README; reports.generate then writes the manifest over everything.
"""

from __future__ import annotations

import base64
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from hashlib import sha256
from importlib.resources import files
from pathlib import Path

from ledger.bundle_verify import Checkpoint, split_note
from reports.proofs import MemoryTree, ProofTexts

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
_SMALL = 1 << 24  # a proof is a few kilobytes; anything near zip64 sizes goes through writestr
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: no clock in the archive, same bytes every time


def write_doc_proofs(
    directory: Path, tree: MemoryTree, bodies: list[bytes], seqs_by_doc: dict[str, list[int]], checkpoint_note: str
) -> dict[str, str]:
    """``proofs/<doc>/<seq>.proof`` for each entry of each document: a C2SP tlog-proof (the entry as its one
    ``extra`` line, its ``index``, the RFC 9162 audit path, the checkpoint) any C2SP parser reads. Returns
    each file's SHA-256 by bundle name, for the manifest."""
    proofs = BUNDLE_NAMES["proofs"]
    folder = directory / proofs
    folder.mkdir(exist_ok=True)
    texts = ProofTexts(tree, bodies, checkpoint_note)
    digests: dict[str, str] = {}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for doc, seqs in seqs_by_doc.items():
        doc_folder = f"{folder}/{doc}/"
        os.mkdir(doc_folder)
        for seq in seqs:  # os-level writes: a million small files, where open()'s buffering only costs
            data = texts.proof(seq)
            fd = os.open(f"{doc_folder}{seq}.proof", flags, 0o666)  # umask applies, as with open()
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            digests[f"{proofs}/{doc}/{seq}.proof"] = sha256(data).hexdigest()
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
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(_relative_names(root)):
            info = zipfile.ZipInfo(f"{directory.name}/{name}", _ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            with open(f"{root}/{name}", "rb", buffering=0) as handle:
                data = handle.readall()
            if f"/{BUNDLE_NAMES['proofs']}/" in f"/{name}" and len(data) < _SMALL:
                _append_stored(archive, info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=_ZIP_LEVEL)


def _relative_names(folder: str, prefix: str = "") -> Iterator[str]:
    """Every file below ``folder``, as a /-separated path relative to it."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _relative_names(entry.path, f"{prefix}{entry.name}/")
            else:
                yield prefix + entry.name


def _append_stored(archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
    """Append one small stored entry with the bytes ``ZipFile.writestr`` writes, at half its cost.

    writestr opens a write handle per entry, writes a provisional header and seeks back to rewrite it once
    the CRC is known; for ~720,000 proofs that machinery is most of the zip's time. Here size and CRC are
    known first, so the final header goes out once; the entry is registered as writestr registers it, and
    ``ZipFile.close`` writes the central directory (zip64 included) as usual. tests/reports compare the bytes.
    """
    assert archive.fp is not None
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = info.compress_size = len(data)
    info.CRC = zlib.crc32(data)
    info.header_offset = archive.fp.tell()
    archive.fp.write(info.FileHeader(zip64=False))
    archive.fp.write(data)
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = archive.fp.tell()
