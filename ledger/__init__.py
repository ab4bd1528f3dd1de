"""The signed, Merkle-chained audit ledger (DESIGN.md "Ledger format").

Entries are RFC 8785 JSON, hashed into an RFC 9162 Merkle tree whose complete
subtrees are stored in DuckDB, chained by ``prev``, and committed to by C2SP
signed-note checkpoints (Ed25519). ``Ledger.open(settings)`` needs no signing
key, so readers such as reports can open it; appends and checkpoints do.
"""

from ledger.anchor import AnchorReport, anchor_shards
from ledger.errors import LedgerError
from ledger.export import write_manifest
from ledger.keys import init_keys
from ledger.log import Entry, EntryDraft, Ledger, LedgerReader, LedgerWriter
from ledger.proofs import tlog_proof, tlog_proof_from
from ledger.verify import VerifyReport, verify_ledger
from ledger.verify_shards import InstallationReport, verify_installation

__all__ = [
    "AnchorReport",
    "Entry",
    "EntryDraft",
    "InstallationReport",
    "Ledger",
    "LedgerError",
    "LedgerReader",
    "LedgerWriter",
    "VerifyReport",
    "anchor_shards",
    "init_keys",
    "tlog_proof",
    "tlog_proof_from",
    "verify_installation",
    "verify_ledger",
    "write_manifest",
]
