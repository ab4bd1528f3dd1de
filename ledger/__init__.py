"""The signed, Merkle-chained audit ledger (DESIGN.md "Ledger format").

Entries are RFC 8785 JSON, hashed into an RFC 9162 Merkle tree whose complete
subtrees are stored in DuckDB, chained by ``prev``, and committed to by C2SP
signed-note checkpoints (Ed25519). ``Ledger.open(settings)`` needs no signing
key, so readers such as reports can open it; appends and checkpoints do.
"""

from docval.lazy import lazy_exports

_EXPORTS = {
    "AnchorReport": "ledger.anchor",
    "Entry": "ledger.entries",
    "EntryDraft": "ledger.entries",
    "InstallationReport": "ledger.verify_shards",
    "Ledger": "ledger.log",
    "LedgerError": "ledger.errors",
    "LedgerReader": "ledger.reader",
    "LedgerWriter": "ledger.writer",
    "VerifyReport": "ledger.verify",
    "anchor_shards": "ledger.anchor",
    "init_keys": "ledger.keys",
    "tlog_proof": "ledger.proofs",
    "tlog_proof_from": "ledger.proofs",
    "verify_installation": "ledger.verify_shards",
    "verify_ledger": "ledger.verify",
    "write_manifest": "ledger.export",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
