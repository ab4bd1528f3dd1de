"""Auto-decisions are signed by nobody, so verify.py re-derives them from the admin-signed policy and facts.

The operator holds the ledger key: whatever they append (or re-sign after editing) carries a valid ledger
signature. What they cannot make is a ``doc.decided`` the ledgered policy would not give those facts, nor a
ledgered policy no admin signed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer
from approvalcheck import make_key
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from docval.domain import DocKind, Outcome
from docval.settings import Settings
from flows.approvals.applied import sign_policy
from flows.approvals.enrol import init_admin
from flows.policy import DEFAULT_POLICY_YAML, DecisionInput, Policy, load_policy
from ledger import EntryDraft, Ledger, init_keys
from ledger.bundle_verify import DecisionFacts
from ledger.cli import register

CODES = ["IBAN_CHECKSUM", "VAT_ID_INVALID", "DUPLICATE", "TOTAL_MISMATCH"]


def _policy(tmp_path: Path) -> tuple[Policy, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT_POLICY_YAML)
    return load_policy(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _signed_installation(settings: Settings, tmp_path: Path) -> tuple[Ledger, Policy, str]:
    """A ledger with its first admin, who signed the default policy (as `docval policy apply` does)."""
    init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    erin = make_key(tmp_path, "erin")
    init_admin(settings, "erin", erin.with_suffix(".pub"))
    settings.resolve(settings.flows.policy_file).write_text(DEFAULT_POLICY_YAML)
    sign_policy(settings, [erin])
    policy, version = _policy(tmp_path)
    return Ledger.open(settings), policy, version


def _unsigned(policy: Policy, version: str) -> EntryDraft:
    """A ``config.applied`` of a policy as the operator can write it: with content, without admins."""
    data = {"name": "policy", "version": version[:12], "sha256": version, "content": policy.model_dump(mode="json")}
    return EntryDraft("config.applied", None, "docval", data)


def _document(doc: str, facts: DecisionInput, decided: dict) -> list[EntryDraft]:
    """The entries the pipeline ledgers for one decided document (as flows/pipeline.py writes them)."""
    fields = {"grand_total": {"tier": "rules", "confidence": facts.min_confidence, "page": 1, "value_hash": "h"}}
    findings = [{"code": code, "message": "m"} for code in facts.finding_codes]
    return [
        EntryDraft("doc.extracted", doc, "docval-worker", {"kind": facts.kind.value, "fields": fields}),
        EntryDraft("doc.validated", doc, "docval-worker", {"findings": findings}),
        EntryDraft("doc.decided", doc, "docval-worker", decided),
    ]


def _decided(policy: Policy, version: str, facts: DecisionInput) -> dict:
    decision = policy.decide(facts, now=datetime.now(UTC))
    return {"outcome": decision.outcome.value, "rule": decision.rule, "approvals_required": decision.approvals_required,
            "amount": str(facts.amount) if facts.amount is not None else None, "policy": version}  # fmt: skip


facts_strategy = st.builds(
    DecisionInput,
    kind=st.sampled_from(list(DocKind)),
    finding_codes=st.lists(st.sampled_from(CODES), unique=True).map(sorted),
    amount=st.one_of(st.none(), st.decimals(min_value=0, max_value=100000, places=2)),
    min_confidence=st.floats(min_value=0, max_value=1),
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(facts=facts_strategy)
def test_every_decision_the_appliance_makes_is_re_derived_from_its_ledgered_form(tmp_path_factory, facts) -> None:
    """Through JSON and back (amount as a decimal string, confidences as floats) the verifier agrees."""
    policy, version = _policy(tmp_path_factory.mktemp("policy"))
    seen = DecisionFacts(policies={version: policy.model_dump(mode="json")})
    for seq, draft in enumerate(_document("d", facts, _decided(policy, version, facts))):
        seen.see(json.loads(json.dumps({"seq": seq, "kind": draft.kind, "doc": draft.doc, "data": draft.data})))
    assert seen.checked == 1


def _export_and_verify(settings: Settings, folder: Path) -> str:
    app = typer.Typer()
    register(app)
    exported = CliRunner().invoke(app, ["ledger", "export", str(folder)])
    assert exported.exit_code == 0, exported.stdout
    ran = subprocess.run([sys.executable, str(folder / "verify.py"), str(folder)], capture_output=True, text=True)
    return ran.stdout


def test_an_outcome_edited_to_auto_approve_and_re_signed_fails_verify_naming_the_seq(
    settings: Settings, tmp_path: Path
) -> None:
    ledger, policy, version = _signed_installation(settings, tmp_path)
    duplicate = DecisionInput(kind=DocKind.INVOICE, finding_codes=["DUPLICATE"], amount=Decimal("120.00"),
                              min_confidence=0.97)  # fmt: skip
    clean = DecisionInput(kind=DocKind.INVOICE, amount=Decimal("80.00"), min_confidence=0.97)
    honest = _decided(policy, version, duplicate)
    assert honest["outcome"] == "needs_approval" and honest["rule"] == "possible-duplicate"
    ledger.append_many(_document("a" * 64, clean, _decided(policy, version, clean)))
    ledger.checkpoint()
    out = _export_and_verify(settings, tmp_path / "honest")
    assert "PASS decisions: 1 policy decision(s) re-derived" in out and "PASS people" in out, out

    # The operator's edit, re-signed with the ledger key: here appended and signed as the ledger signs anything.
    forged = honest | {"outcome": "auto_approve", "rule": "clean-invoice", "approvals_required": 0}
    seqs = ledger.append_many(_document("b" * 64, duplicate, forged))
    ledger.checkpoint()
    out = _export_and_verify(settings, tmp_path / "forged")
    assert f"FAIL decisions: seq {seqs[-1]}: doc.decided says auto_approve" in out, out
    assert "NOT VERIFIED" in out


def test_a_hand_made_config_applied_for_an_unsigned_policy_fails_verify(settings: Settings, tmp_path: Path) -> None:
    ledger, _, _ = _signed_installation(settings, tmp_path)
    lenient = Policy(rules=[], default=Outcome.AUTO_APPROVE)  # the operator's policy: auto-approve everything
    version = hashlib.sha256(b"operator's policy").hexdigest()
    facts = DecisionInput(kind=DocKind.INVOICE, finding_codes=["DUPLICATE"], min_confidence=0.5)
    [seq] = ledger.append_many([_unsigned(lenient, version)])
    ledger.append_many(_document("c" * 64, facts, _decided(lenient, version, facts)))
    ledger.checkpoint()
    out = _export_and_verify(settings, tmp_path / "bundle")
    assert f"FAIL people: seq {seq}: a policy applied without admins' signatures" in out, out
    assert "FAIL decisions" in out and "which no config.applied ledgers" in out, out  # only signed policies count


def test_the_verifier_reads_confidence_as_the_pipeline_does_line_item_mark_left_out(tmp_path: Path) -> None:
    """A complete table's 0.9 mark is no probability: the appliance auto-approves a clean small invoice whose
    fields are all >= 0.98, and the verifier re-derives that decision; a field under 0.98 still holds it."""
    policy, version = _policy(tmp_path)
    for confidence, outcome in ((0.99, Outcome.AUTO_APPROVE), (0.97, Outcome.NEEDS_APPROVAL)):
        facts = DecisionInput(kind=DocKind.INVOICE, amount=Decimal("80.00"), min_confidence=confidence)
        decided = _decided(policy, version, facts)
        assert decided["outcome"] == outcome.value
        drafts = _document("d", facts, decided)
        drafts[0].data["fields"]["line_items"] = {"tier": "rules", "confidence": 0.9, "page": 1, "value_hash": "h"}
        seen = DecisionFacts(policies={version: policy.model_dump(mode="json")})
        for seq, draft in enumerate(drafts):
            seen.see(json.loads(json.dumps({"seq": seq, "kind": draft.kind, "doc": draft.doc, "data": draft.data})))
        assert seen.checked == 1
