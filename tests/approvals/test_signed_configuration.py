"""Who is named maker (``os_makers``) and who is told of a missed deadline (``escalation_command``) are signed.

Both live in ``policy.yaml``, which admins sign (``docval policy apply``); the appliance uses the ledgered,
signed content. The operator (root, no admin's key) edits them on disk: in ``docval.toml`` the mapping is
refused with the file and line, in ``policy.yaml`` the workers stop deciding and deadlines keep escalating
with the signed command, saying so in the log.
"""

from __future__ import annotations

import getpass
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from approvalcheck import wait_for_approval

from docval.errors import ConfigError
from docval.settings import Settings, load_settings
from flows.appliance import prepare
from flows.approvals.applied import sign_policy, signed_policy
from flows.approvals.deadlines import escalate_overdue
from flows.approvals.enrol import demo_keys_dir
from flows.errors import FlowError
from flows.makers import FileFacts, enrolled_people, maker_of
from ledger import Ledger


@pytest.fixture
def demo(settings: Settings) -> Path:
    """A demo installation (erin signed the starting policy); its policy.yaml."""
    prepare(settings)
    return settings.resolve(settings.flows.policy_file)


def my_files_maker(settings: Settings) -> str:
    """Who a file owned by the account running the tests is attributed to, under the signed policy."""
    facts = FileFacts(folder=None, owner=os.getuid())
    return maker_of(facts, enrolled=enrolled_people(settings), os_makers=signed_policy(settings)[1].os_makers)


def test_the_operator_mapping_their_account_to_carol_names_nobody_until_an_admin_signs(
    settings: Settings, demo: Path
) -> None:
    config = Path(os.environ["DOCVAL_CONFIG"])
    config.write_text(f'[flows]\nos_makers = {{ "{getpass.getuser()}" = "carol" }}\n')
    with pytest.raises(ConfigError, match=r"docval\.toml:1: .*os_makers moved to policy\.yaml.*docval policy apply"):
        load_settings()  # the setting the operator could edit is gone: docval does not start with it
    config.unlink()

    demo.write_text(demo.read_text().replace("os_makers: {}", f"os_makers: {{{getpass.getuser()}: carol}}"))
    with pytest.raises(FlowError, match="not the policy admins signed last"):
        signed_policy(settings)  # what every worker context checks before claiming or deciding anything
    sign_policy(settings, [demo_keys_dir(settings) / "erin"])
    assert my_files_maker(settings) == "carol"

    demo.write_text(demo.read_text().replace(": carol}", ": bob}"))  # edited again after the signature
    with pytest.raises(FlowError, match="not the policy admins signed last"):
        my_files_maker(settings)


def test_an_unsigned_escalation_command_is_not_run_and_escalation_still_happens(
    settings: Settings, demo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notified = tmp_path / "notified.txt"
    hook = f'escalation_command: ["sh", "-c", "echo $DOCVAL_DOC >> {notified}"]'
    demo.write_text(demo.read_text().replace("escalation_command: []", hook))  # the operator's edit
    ledger = Ledger.open(settings)
    first = wait_for_approval(ledger, maker="alice", required=1, deadline_in=-1)
    with caplog.at_level(logging.ERROR, logger="flows.approvals.deadlines"):
        assert escalate_overdue(settings, datetime.now(UTC)) == 1  # fails closed: escalated all the same
    assert not notified.exists()
    assert "not the policy admins signed last" in caplog.text
    assert [e.doc for e in ledger.entries() if e.kind == "approval.escalated"] == [first]

    sign_policy(settings, [demo_keys_dir(settings) / "erin"])  # the admin reviews the hook and signs it
    second = wait_for_approval(ledger, maker="alice", required=1, deadline_in=-1)
    assert escalate_overdue(settings, datetime.now(UTC)) == 1
    assert notified.read_text().split() == [second]
