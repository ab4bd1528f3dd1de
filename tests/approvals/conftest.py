"""Fixtures of the approvals tests: a real ledger and enrolled people with real OpenSSH keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from approvalcheck import People

from approvals.roles import Role
from docval.settings import Settings
from ledger import Ledger, init_keys


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    init_keys(settings.keys_dir, settings.ledger.key_name)
    return Ledger.open(settings)


@pytest.fixture
def people(ledger: Ledger, tmp_path: Path) -> People:
    """erin (admin, the trust anchor), alice (submitter), bob and carol (reviewers), dave (senior)."""
    home = tmp_path / "people"
    home.mkdir()
    crowd = People(ledger, home)
    crowd.enrol("add", "erin", [Role.ADMIN], signers=["erin"])
    crowd.enrol("add", "alice", [Role.SUBMITTER, Role.REVIEWER], signers=["erin"])
    crowd.enrol("add", "bob", [Role.REVIEWER], signers=["erin"])
    crowd.enrol("add", "carol", [Role.REVIEWER], signers=["erin"])
    crowd.enrol("add", "dave", [Role.SENIOR_REVIEWER], signers=["erin"])
    return crowd
