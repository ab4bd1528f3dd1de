"""Write the ledger part of an evidence bundle (DESIGN.md): what an auditor needs to verify offline.

Only entries covered by the latest checkpoint are exported, so the bundle is
complete and signed as a whole even while a writer keeps appending (export
is a read: it never signs). ``manifest.json`` lists the SHA-256 of every file;
reports/ exports with ``manifest=False``, adds its files and writes the one
manifest over all of them (hashing entries.jsonl once, from the bytes it reads).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ledger.bundle_verify import COSIGNATURES_FILE, Checkpoint, split_note
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger
from ledger.witnessing import cosignature_lines

__all__ = ["VERIFY_SCRIPT", "export_about", "export_bundle", "write_manifest"]

VERIFY_SCRIPT = Path(__file__).with_name("bundle_verify.py")
_BATCH = 50_000


def export_bundle(ledger: Ledger, directory: Path, note: str | None = None, *, manifest: bool = True) -> Checkpoint:
    """Export the entries the latest checkpoint covers, or those of ``note``, one of the ledger's own
    checkpoints (a shard is exported up to the checkpoint the root anchored); the manifest too, unless the
    caller adds files first and writes it itself."""
    directory.mkdir(parents=True, exist_ok=True)
    with ledger.reader() as reader:
        if note is None:
            note = reader.latest_checkpoint()
        elif note not in reader.checkpoints():
            raise LedgerError(f"{ledger.db_path}: the checkpoint to export is not one of the ledger's own")
        if note is None:
            raise LedgerError("the ledger has no checkpoint yet; run `docval ledger checkpoint`")
        checkpoint = Checkpoint.parse(split_note(note)[0])
        keys = reader.key_history(load_anchor(ledger.keys_dir), checkpoint.size)
        with (directory / "entries.jsonl").open("wb") as handle:
            for low in range(0, checkpoint.size, _BATCH):
                rows = reader.con.execute(
                    "SELECT body FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq",
                    [low, min(low + _BATCH, checkpoint.size)],
                ).fetchall()
                handle.writelines(bytes(body) + b"\n" for (body,) in rows)
    (directory / "checkpoint").write_text(note, encoding="utf-8")
    write_cosignatures(ledger, directory, checkpoint.size)
    (directory / "ledger.vkey").write_text("".join(f"{key}\n" for key in keys), encoding="utf-8")
    shutil.copyfile(VERIFY_SCRIPT, directory / "verify.py")
    if manifest:
        write_manifest(directory, export_about(checkpoint))
    return checkpoint


# ----------------------------------------------------------------------------- witness cosignatures


def write_cosignatures(ledger: Ledger, directory: Path, size: int) -> None:
    """``cosignatures``: the witnesses' cosignature lines of the exported checkpoint, if any (C2SP note
    signature lines: appended to ``checkpoint`` they make one note; verify.py --witness-key checks them)."""
    lines = cosignature_lines(ledger).get(size, [])
    if lines:
        (directory / COSIGNATURES_FILE).write_text("".join(lines), encoding="utf-8")


# ----------------------------------------------------------------------------- manifest


def export_about(checkpoint: Checkpoint) -> dict[str, object]:
    """The manifest's ``about`` for an export: which log, how many entries."""
    return {"origin": checkpoint.origin, "size": checkpoint.size}


def write_manifest(
    directory: Path, about: dict[str, object] | None = None, known: Mapping[str, str] | None = None
) -> None:
    """``manifest.json``: SHA-256 of every file below ``directory`` (except itself), plus ``about``.

    ``about=None`` keeps the present manifest's (re-sealing after a change). ``known`` maps names
    (``proofs/x.proof``) to digests of bytes the caller has just written, so a 100,000-file bundle is not
    read back to be hashed.
    """
    path = directory / "manifest.json"
    if about is None:
        about = json.loads(path.read_text(encoding="utf-8"))["about"] if path.exists() else {}
    known = known or {}
    files: dict[str, str] = {}
    for folder, _, names in os.walk(directory):
        prefix = os.path.relpath(folder, directory).replace(os.sep, "/") + "/"
        for name in names:
            relative = name if prefix == "./" else prefix + name
            if relative != "manifest.json":
                files[relative] = known.get(relative) or _file_sha256(os.path.join(folder, name))
    manifest = {"about": about, "files": files}
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _file_sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
