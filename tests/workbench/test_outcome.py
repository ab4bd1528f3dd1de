"""A document the policy decided alone shows that outcome: what, by which rule, when, and that nobody signed.

The screens read it from the approvals core's fold of the ledger entries, as the pipeline leaves them for an
auto-approved invoice and a policy rejection, not from the buttons' absence.
"""

from __future__ import annotations

import secrets

import pytest

from docval.domain import Decision, DocKind, DocState, DocumentResult, LedgerSpan, Outcome
from docval.settings import Settings
from ledger import EntryDraft, Ledger, init_keys
from workbench.views import document_view


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    init_keys(settings.keys_dir, settings.ledger.key_name)
    return Ledger.open(settings)


def _decided_by_policy(settings: Settings, ledger: Ledger, outcome: Outcome, rule: str, final: str) -> str:
    doc = secrets.token_hex(32)
    state = DocState.PUBLISHED if final == "doc.published" else DocState.REJECTED
    result = DocumentResult(
        doc=doc,
        source="invoice-007.pdf",
        kind=DocKind.INVOICE,
        state=state,
        decision=Decision(outcome=outcome, rule=rule),
        ledger=LedgerSpan(first_seq=0, last_seq=0),
    )
    (settings.outbox / f"{doc}.json").write_text(result.to_json())
    ledger.append_many(
        [
            EntryDraft("doc.claimed", doc, "alice", {"source_hash": "h", "size": 1, "maker": "alice"}),
            EntryDraft("doc.decided", doc, "docval", {"outcome": outcome.value, "rule": rule, "amount": "80.00"}),
            EntryDraft(final, doc, "docval", {"result_sha256": "0" * 64}),
        ]
    )
    return doc


@pytest.mark.parametrize(
    ("outcome", "rule", "final", "what"),
    [
        (Outcome.AUTO_APPROVE, "clean-invoice", "doc.published", "published"),
        (Outcome.REJECT, "broken-bank-details", "doc.rejected", "rejected"),
    ],
)
def test_a_document_the_policy_decided_shows_rule_time_and_nobody(
    settings: Settings, ledger: Ledger, outcome: Outcome, rule: str, final: str, what: str
) -> None:
    doc = _decided_by_policy(settings, ledger, outcome, rule, final)
    view = document_view(settings, doc, ledger)
    assert view is not None and view.decided is not None
    at = ledger.entries_for_doc(doc)[-1].ts
    assert (view.decided.what, view.decided.rule, view.decided.at, view.decided.by) == (what, rule, at, [])
    assert view.decided.summary() == f"{what} by rule {rule} at {at}; by the policy alone, nobody signed"
