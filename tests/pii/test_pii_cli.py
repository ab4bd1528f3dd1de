"""``docval pii reveal | erase | eval`` as an operator runs them (real subprocesses, real data directory)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from piihelpers import doc_id

from approvals.audit import check_people
from docval.settings import Settings
from flows.approvals.enrol import demo_keys_dir
from ledger import Ledger
from pii import PiiEngine


def docval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", "pii", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def masked_doc(settings: Settings) -> str:
    """A masked document on an installation whose people are the demo ones (dave reads PII, bob reviews)."""
    from flows.appliance import prepare

    prepare(settings)
    doc = doc_id("cli")
    PiiEngine.from_settings(settings).mask_text("Name: Ana Souza", doc=doc, subject="cust-cli")
    return doc


def test_reveal_erase_cycle(masked_doc: str, settings: Settings) -> None:
    keys = demo_keys_dir(settings)
    denied = docval("reveal", masked_doc, "<PERSON_1>", "--key", str(keys / "bob"))
    assert denied.returncode == 2 and "pii_reader" in denied.stderr and "Ana" not in denied.stderr
    allowed = docval("reveal", masked_doc, "<PERSON_1>", "--key", str(keys / "dave"))
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "Ana Souza"
    event = json.loads(allowed.stderr.strip().splitlines()[-1])
    assert event["kind"] == "pii.revealed" and event["doc"] == masked_doc and event["data"]["user"] == "dave"
    assert event["data"]["signature"]["kind"] == "sshsig" and event["data"]["statement"]["token"] == "<PERSON_1>"

    erased = docval("erase", "cust-cli", "--key", str(keys / "dave"))
    assert erased.returncode == 0, erased.stderr
    payload = json.loads(erased.stdout)
    assert payload["kind"] == "pii.erased" and payload["data"]["key_destroyed"] is True
    gone = docval("reveal", masked_doc, "<PERSON_1>", "--key", str(keys / "dave"))
    assert gone.returncode == 2 and "Ana" not in gone.stdout + gone.stderr

    entries = [e for e in Ledger.open(settings).entries() if e.kind.startswith("pii.")]  # after the set-up
    assert [(e.kind, e.doc, e.actor) for e in entries] == [
        ("pii.revealed", masked_doc, "dave"),
        ("pii.erased", None, "dave"),
    ], "only the granted reveal and the erasure are ledgered"
    assert check_people(list(Ledger.open(settings).entries())) == [], "the reveal and the erasure verify as dave's"
    assert [event["seq"], payload["seq"]] == [e.seq for e in entries]
    # the surname, not "Ana": three letters can occur by chance in the entries' fresh base64 signatures and keys
    # (one CI run failed on "Ana" here and passed on rerun; the entries hold no text of the document)
    assert all("Souza" not in e.canonical.decode() for e in entries)


def test_eval_prints_scores_per_configuration(settings: Settings) -> None:
    result = docval("eval", "--limit", "100", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [run["name"] for run in report][:2] == ["patterns", "patterns+labels"]
    email = next(t for t in report[0]["types"] if t["entity"] == "EMAIL_ADDRESS")
    assert email["recall"] == 1.0 and email["gold"] > 0
