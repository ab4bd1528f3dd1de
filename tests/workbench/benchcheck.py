"""Helpers of the workbench tests: people enrolled through the core with real ssh-keygen keys, waiting documents."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from approvals.entries import EnrolmentPayload, SignerSignature
from approvals.record import read_roster, record_enrolment
from approvals.roles import Role
from approvals.sshsig import sign_with_ssh_keygen
from approvals.statement import EnrolmentStatement, fields_digest
from docval.domain import Decision, DocKind, DocState, DocumentResult, ExtractedField, Finding, LedgerSpan, Outcome
from docval.store import DocumentStore
from ledger import EntryDraft, Ledger

FIELDS = {
    "invoice_number": ExtractedField(value="42183017", confidence=0.98, tier="rules", page=1),
    "issue_date": ExtractedField(value="2014-08-03", confidence=0.95, tier="rules", page=1),
    "seller_name": ExtractedField(value="<ORGANIZATION_1>", confidence=0.9, tier="rules", page=1),
    "grand_total": ExtractedField(value="4.11", confidence=0.62, tier="local", page=1),
}


SOURCE = "invoice-<PERSON_1>.pdf"  # as the pipeline masks "invoice-Sai Yu Chung.pdf" (PiiEngine.mask_name)


def make_key(directory: Path, name: str) -> Path:
    """A real Ed25519 key pair from ssh-keygen, outside the data directory like a person's own machine."""
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path


def enrol_ssh(ledger: Ledger, person: str, roles: list[Role], key: Path, admin: str, admin_key: Path) -> None:
    """Enrol ``person`` with their SSH key through the core, signed by ``admin`` (themself for the first admin)."""
    statement = EnrolmentStatement(
        action="add",
        person=person,
        roles=roles,
        key={"kind": "ssh-ed25519", "public_key": key.with_suffix(".pub").read_text().strip()},
        roster_version=read_roster(ledger).version,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    signature = {"kind": "sshsig", "signature": sign_with_ssh_keygen(admin_key, statement.message())}
    record_enrolment(
        ledger, EnrolmentPayload(statement=statement, signatures=[SignerSignature(signer=admin, signature=signature)])
    )


def waiting_document(settings, ledger: Ledger, pdf: Path, *, maker: str, required: int = 2) -> str:
    """A document waiting for ``required`` approvals: its original, outbox record, store row and ledger entries,
    as the pipeline leaves them (approval.requested carries the round nonce and the digest of the fields)."""
    doc = secrets.token_hex(32)
    awaiting = settings.work_dir / "awaiting"
    awaiting.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, awaiting / f"{doc}.pdf")
    findings = [Finding(code="LOW_CONFIDENCE", message="grand_total below threshold", fields=["grand_total"])]
    result = DocumentResult(
        doc=doc,
        source=SOURCE,
        kind=DocKind.INVOICE,
        state=DocState.AWAITING_APPROVAL,
        fields=FIELDS,
        findings=findings,
        decision=Decision(outcome=Outcome.NEEDS_APPROVAL),
        ledger=LedgerSpan(first_seq=0, last_seq=0),
    )
    (settings.outbox / f"{doc}.json").write_text(result.to_json())
    store = DocumentStore(settings.store_db)
    store.claim(doc, "h" * 64)
    store.update(doc, state=DocState.AWAITING_APPROVAL, kind=DocKind.INVOICE)
    deadline = (datetime.now(UTC) + timedelta(hours=24)).isoformat()
    fields = {name: value.model_dump(mode="json", exclude={"span"}) for name, value in FIELDS.items()}
    ledger.append_many(
        [
            EntryDraft("doc.claimed", doc, maker, {"source_hash": "h", "size": pdf.stat().st_size, "maker": maker}),
            EntryDraft("doc.ingested", doc, "docval", {"pages": 1, "text_pages": 1, "ocr_pages": 0}),
            EntryDraft("doc.validated", doc, "docval", {"findings": [f.model_dump() for f in findings]}),
            EntryDraft(
                "doc.decided", doc, "docval", {"outcome": "needs_approval", "rule": "low_confidence", "amount": "4.11"}
            ),
            EntryDraft(
                "approval.requested",
                doc,
                "docval",
                {
                    "approvals_required": required,
                    "deadline": deadline,
                    "queue": "reviewer",
                    "result_sha256": "0" * 64,
                    "round": secrets.token_hex(16),
                    "fields_sha256": fields_digest(fields),
                },
            ),
        ]
    )
    return doc
