"""``docval pii reveal | erase | eval`` as an operator runs them (real subprocesses, real data directory)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from piihelpers import doc_id

from docval.settings import Settings
from ledger import Ledger, init_keys
from pii import PiiEngine

ROLES = """\
users:
  - name: carol
    roles: [pii_reader]
    public_key: MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
  - name: bob
    roles: [reviewer]
"""


def docval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", "pii", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def masked_doc(settings: Settings) -> str:
    (settings.data_dir / "roles.yaml").write_text(ROLES)
    init_keys(settings.keys_dir, settings.ledger.key_name)
    doc = doc_id("cli")
    PiiEngine.from_settings(settings).mask_text("Name: Ana Souza", doc=doc, subject="cust-cli")
    return doc


def test_reveal_erase_cycle(masked_doc: str, settings: Settings) -> None:
    denied = docval("reveal", masked_doc, "<PERSON_1>", "--user", "bob")
    assert denied.returncode == 2 and "pii_reader" in denied.stderr and "Ana" not in denied.stderr
    allowed = docval("reveal", masked_doc, "<PERSON_1>", "--user", "carol")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "Ana Souza"
    event = json.loads(allowed.stderr.strip().splitlines()[-1])
    assert event["kind"] == "pii.revealed" and event["doc"] == masked_doc and event["data"]["user"] == "carol"

    erased = docval("erase", "cust-cli")
    assert erased.returncode == 0, erased.stderr
    payload = json.loads(erased.stdout)
    assert payload["kind"] == "pii.erased" and payload["data"]["key_destroyed"] is True
    gone = docval("reveal", masked_doc, "<PERSON_1>", "--user", "carol")
    assert gone.returncode == 2 and "Ana" not in gone.stdout + gone.stderr

    entries = list(Ledger.open(settings).entries())
    assert [(e.kind, e.doc, e.actor) for e in entries] == [
        ("pii.revealed", masked_doc, "carol"),
        ("pii.erased", None, "operator"),
    ], "only the granted reveal and the erasure are ledgered"
    assert [event["seq"], payload["seq"]] == [e.seq for e in entries]
    assert all("Ana" not in e.canonical.decode() for e in entries)


def test_eval_prints_scores_per_configuration(settings: Settings) -> None:
    result = docval("eval", "--limit", "100", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [run["name"] for run in report][:2] == ["patterns", "patterns+labels"]
    email = next(t for t in report[0]["types"] if t["entity"] == "EMAIL_ADDRESS")
    assert email["recall"] == 1.0 and email["gold"] > 0
