"""Issue 15's insider with write access to ``var/``: each scenario is caught by ``docval ledger verify``.

Real subprocesses of the CLI, real DuckDB files, real keys. The attacks edit the files the way an operator
with root would; none of them needs the ledger's signing key except where the scenario says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb

from docval.settings import Settings
from ledger import EntryDraft, Ledger, init_keys, merkle

DECIDED = "doc.decided"


def docval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docval", *args], capture_output=True, text=True, timeout=120, env=os.environ
    )


def _decisions(count: int) -> list[EntryDraft]:
    return [EntryDraft(DECIDED, f"doc-{i}", "worker", {"outcome": "needs_approval"}) for i in range(count)]


def test_an_edited_outcome_in_the_unsigned_tail_fails_verify(settings: Settings) -> None:
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    ledger.append_many(_decisions(4))
    ledger.checkpoint()
    (last,) = ledger.append_many(_decisions(1))  # beyond the latest checkpoint: signed by nothing
    body = next(ledger.entries(last)).canonical
    forged = body.replace(b"needs_approval", b"auto_approve")
    leaf, signed_root = merkle.leaf_hash(forged), ledger.root(4)
    with duckdb.connect(str(settings.ledger_db)) as con:  # no key needed: nothing signed commits to it
        con.execute("UPDATE entries SET body = ? WHERE seq = ?", [forged, last])
        con.execute("UPDATE nodes SET hash = ? WHERE pos = ?", [leaf, merkle.node_position(0, last)])
        con.execute("UPDATE head SET last_leaf = ?, border = ?", [leaf, signed_root + leaf])
    verified = docval("ledger", "verify")
    assert verified.returncode == 1, verified.stdout
    assert "1 entries beyond the latest checkpoint are not signed" in verified.stdout
    allowed = docval("ledger", "verify", "--allow-unsigned-tail")
    assert allowed.returncode == 0 and "1 newer entries not yet signed" in allowed.stdout, allowed.stdout
    assert json.loads(next(Ledger.open(settings).entries(last)).canonical)["data"]["outcome"] == "auto_approve"
