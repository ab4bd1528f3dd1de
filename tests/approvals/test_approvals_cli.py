"""The enrolment commands an acceptance check runs, as an admin runs them (real subprocesses and keys)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from approvalcheck import make_key

from approvals.record import read_roster
from docval.settings import Settings
from flows.approvals.applied import apply_configuration, signed_policy
from flows.errors import FlowError
from flows.policy import load_policy, policy_version
from ledger import Ledger


def docval(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *map(str, args)], capture_output=True, text=True)


def test_first_admin_then_four_eyes_on_enrolment(settings: Settings, tmp_path: Path) -> None:
    erin, frank, bob = (make_key(tmp_path, name) for name in ("erin", "frank", "bob"))
    first = docval("init", "--admin", "erin", "--public-key", erin.with_suffix(".pub"))
    assert first.returncode == 0 and "trust anchor" in first.stdout, first.stderr
    again = docval("init", "--admin", "mallory", "--public-key", bob.with_suffix(".pub"))
    assert again.returncode == 2 and "not empty" in again.stderr
    added = docval("users", "add", "frank", "--role", "admin", "--public-key", frank.with_suffix(".pub"),
                   "--admin-key", erin)  # fmt: skip
    assert added.returncode == 0, added.stderr
    alone = docval("users", "add", "bob", "--role", "reviewer", "--public-key", bob.with_suffix(".pub"),
                   "--admin-key", erin)  # fmt: skip
    assert alone.returncode == 2 and "2 admins must sign" in alone.stderr
    forged = docval("users", "add", "bob", "--role", "reviewer", "--public-key", bob.with_suffix(".pub"),
                    "--admin-key", erin, "--admin-key", bob)  # fmt: skip
    assert forged.returncode == 2 and "not enrolled" in forged.stderr  # bob's own key is nobody's admin key
    both = docval("users", "add", "bob", "--role", "reviewer", "--public-key", bob.with_suffix(".pub"),
                  "--admin-key", erin, "--admin-key", frank)  # fmt: skip
    assert both.returncode == 0, both.stderr
    listed = docval("users", "list").stdout
    assert "bob" in listed and "reviewer" in listed and "(demo)" not in listed
    roster = read_roster(Ledger.open(settings))
    assert sorted(roster.people) == ["bob", "erin", "frank"] and roster.admin_signatures_required() == 2
    assert docval("ledger", "verify").returncode == 0


def test_configuration_changes_are_ledgered_once_each_and_the_policy_only_signed(
    settings: Settings, tmp_path: Path
) -> None:
    """The operator edits policy.yaml to auto-approve everything: nothing decides under it until an admin signs."""
    erin = make_key(tmp_path, "erin")
    init = docval("init", "--admin", "erin", "--public-key", erin.with_suffix(".pub"))
    assert init.returncode == 0 and "docval policy apply --admin-key" in init.stdout, init.stdout + init.stderr
    ledger = Ledger.open(settings)
    applied = [e.data["name"] for e in ledger.entries() if e.kind == "config.applied"]
    assert applied == ["people", "settings"]  # the policy is never ledgered unsigned
    assert apply_configuration(settings) == []  # nothing changed
    with pytest.raises(FlowError, match="docval policy apply --admin-key"):
        signed_policy(settings)[0]  # what every worker context checks before deciding anything
    assert docval("policy", "apply", "--admin-key", erin).returncode == 0
    version = signed_policy(settings)[0]

    policy = settings.resolve(settings.flows.policy_file)
    policy.write_text("default: auto_approve\nrules: []\n")
    assert load_policy(policy).rules == []  # the operator's policy: auto-approve everything
    with pytest.raises(FlowError, match="not the policy admins signed last"):
        signed_policy(settings)[0]
    mallory = make_key(tmp_path, "mallory")  # a key of the operator's own
    refused = docval("policy", "apply", "--admin-key", mallory)
    assert refused.returncode != 0 and "not enrolled" in refused.stderr + refused.stdout
    assert version != policy_version(policy)
    assert docval("policy", "apply", "--admin-key", erin).returncode == 0  # the admin reviews and signs
    assert signed_policy(settings)[0] == policy_version(policy)
    assert docval("ledger", "verify").returncode == 0
