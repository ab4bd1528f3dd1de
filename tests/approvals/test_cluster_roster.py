"""In a cluster, a shard's decision is checked against the root's enrolment as it is when the decision is ledgered.

Real DuckDB files: the root ledger (enrolment) and a worker's shard ledger (the document). The race: a worker's
batch holds the shard's write lock, so the decision waits for it; meanwhile an admin ledgers bob's demotion in
the root. Reading the roster just before waiting for the shard let bob's approval through after his demotion.
"""

from __future__ import annotations

import threading
import time

from approvalcheck import People, sshsig, wait_for_approval

from approvals.record import Recorded, read_roster, record_decision
from approvals.roles import Role
from docval.db import connect
from docval.settings import Settings
from docval.shards import shard_settings
from ledger import Ledger, init_keys

WAITS = 1.0  # long enough for a thread that is not blocked to finish its ledger write on a loaded machine


def _shard(settings: Settings) -> Ledger:
    shard = shard_settings(settings, "w1")
    shard.ensure_dirs()
    init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
    return Ledger.open(shard)


def _round(ledger: Ledger, doc: str) -> str:
    return next(e.data["round"] for e in ledger.entries_for_doc(doc) if e.kind == "approval.requested")


def test_a_demotion_in_the_root_racing_a_shard_decision_is_honoured(people: People, settings: Settings) -> None:
    shard = _shard(settings)
    doc = wait_for_approval(shard, maker="alice", required=1)
    statement = people.statement(doc, "bob", round=_round(shard, doc))
    signature = sshsig(people.key("bob"), statement.message())
    results: list[Recorded] = []
    deciding = threading.Thread(
        target=lambda: results.append(record_decision(shard, statement, signature, roster_ledger=people.ledger))
    )
    demoting = threading.Thread(target=lambda: people.enrol("set-roles", "bob", [Role.SUBMITTER], signers=["erin"]))

    with connect(shard.db_path, write=True):  # the shard's worker is in the middle of a batch
        deciding.start()
        time.sleep(WAITS)  # the decision is under way: it waits for the shard
        demoting.start()
        demoting.join(WAITS)
        demoted_while_deciding = not demoting.is_alive()
        started = time.monotonic()
        assert read_roster(people.ledger).person("bob") is not None  # the worker still reads the root: no deadlock
        assert time.monotonic() - started < WAITS
    deciding.join(30)
    demoting.join(30)

    [recorded] = results
    roster = read_roster(people.ledger)
    demoted = roster.person("bob")
    assert demoted is not None and Role.REVIEWER not in demoted.roles  # the demotion was ledgered in the end
    if demoted_while_deciding:  # ledgered before the decision was: bob no longer holds the role
        assert not recorded.accepted and "does not hold the role" in " ".join(recorded.reasons)
    else:  # the demotion waited until the decision was in, which was checked against the roster of its time
        assert recorded.accepted
        assert shard.entries_for_doc(doc)[-1].data["roster_version"] == roster.version - 1  # before the demotion
