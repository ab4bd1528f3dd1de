"""Signed policies: a decision policy applies only once enough admins signed it and it is ledgered.

The policy decides every document nobody signs for (auto-approve, reject, how many approvals), so changing it
is a change of the rules themselves: it needs admins, like enrolment (two once two exist). The signed policy
is ledgered as the ``config.applied`` entry of the name ``policy``, with its content (no PII), the admins'
statement and their signatures; the appliance refuses to decide under any other policy, and verify.py checks
the signatures against the admins enrolled at that point.
"""

from __future__ import annotations

from typing import Any

from approvals.entries import PERSON_CHANGED, SignerSignature
from approvals.errors import ApprovalsError
from approvals.people import check_admins_signed, fold_roster
from approvals.statement import PolicyStatement
from docval.events import ConfigAppliedPayload, EntryKind
from ledger import EntryDraft, Ledger, LedgerReader
from ledger.bundle_verify import policy_content_digest

__all__ = ["last_signed_policy", "policy_statement", "record_policy"]

CONFIG_APPLIED = EntryKind.CONFIG_APPLIED.value


def policy_statement(version: str, content: dict[str, Any], roster_version: int, signed_at: str) -> PolicyStatement:
    """What admins sign for ``policy.yaml`` of SHA-256 ``version`` parsed as ``content``."""
    return PolicyStatement(
        sha256=version,
        content_sha256=policy_content_digest(content),
        roster_version=roster_version,
        signed_at=signed_at,
    )


def record_policy(
    ledger: Ledger, statement: PolicyStatement, content: dict[str, Any], signatures: list[SignerSignature]
) -> int:
    """Ledger a policy signed by enough admins of the roster under the lock; its seq (``ApprovalsError``: why not)."""

    def build(reader: LedgerReader) -> list[EntryDraft]:
        roster = fold_roster(reader.entries_of_kind([PERSON_CHANGED]))
        if statement.roster_version != roster.version:
            raise ApprovalsError(f"policy signed at roster version {statement.roster_version}; it is {roster.version}")
        if statement.content_sha256 != policy_content_digest(content):
            raise ApprovalsError("the signed statement is about another policy content")
        check_admins_signed(roster, statement.message(), signatures, "policy changes")
        payload = ConfigAppliedPayload(
            name="policy",
            version=statement.sha256[:12],
            sha256=statement.sha256,
            content=content,
            statement=statement.model_dump(mode="json"),
            signatures=[signed.model_dump(mode="json") for signed in signatures],
        )
        return [EntryDraft(CONFIG_APPLIED, None, signatures[0].signer, payload.model_dump(mode="json"))]

    seqs, _ = ledger.append_with(build)
    return seqs[0]


def last_signed_policy(ledger: Ledger) -> tuple[str, dict[str, Any]] | None:
    """(SHA-256, content) of the policy admins signed last (the one in force), None if none was ever signed."""
    with ledger.reader() as reader:
        applied = reader.entries_of_kind([CONFIG_APPLIED])
    signed = [
        (entry.data["sha256"], entry.data["content"])
        for entry in applied
        if entry.data.get("name") == "policy" and "statement" in entry.data
    ]
    return signed[-1] if signed else None
