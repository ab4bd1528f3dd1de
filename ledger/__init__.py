"""The signed, Merkle-chained audit ledger (DESIGN.md "Ledger format")."""
