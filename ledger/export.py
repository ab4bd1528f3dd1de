"""Write the ledger part of an evidence bundle (DESIGN.md): what an auditor needs to verify offline.

Only entries covered by the latest checkpoint are exported, so the bundle is
complete and signed as a whole even while a writer keeps appending (export
is a read: it never signs). ``manifest.json`` lists the SHA-256 of every file
written so far; reports/ adds its files and calls ``write_manifest`` again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ledger.bundle_verify import Checkpoint, split_note
from ledger.errors import LedgerError
from ledger.keys import load_anchor
from ledger.log import Ledger

__all__ = ["VERIFY_SCRIPT", "export_bundle", "write_manifest"]

VERIFY_SCRIPT = Path(__file__).with_name("bundle_verify.py")
_BATCH = 50_000


def export_bundle(ledger: Ledger, directory: Path, note: str | None = None) -> Checkpoint:
    """Export the entries the latest checkpoint covers, or those of ``note``, one of the ledger's own
    checkpoints (a shard is exported up to the checkpoint the root anchored)."""
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
    (directory / "ledger.vkey").write_text("".join(f"{key}\n" for key in keys), encoding="utf-8")
    shutil.copyfile(VERIFY_SCRIPT, directory / "verify.py")
    write_manifest(directory, {"origin": checkpoint.origin, "size": checkpoint.size})
    return checkpoint


def write_manifest(directory: Path, about: dict[str, object] | None = None) -> None:
    """``manifest.json``: SHA-256 of every file below ``directory`` (except itself), plus ``about``."""
    path = directory / "manifest.json"
    previous = json.loads(path.read_text(encoding="utf-8")).get("about", {}) if path.exists() else {}
    files = {
        file.relative_to(directory).as_posix(): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(directory.rglob("*"))
        if file.is_file() and file != path
    }
    manifest = {"about": {**previous, **(about or {})}, "files": files}
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
