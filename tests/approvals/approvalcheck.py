"""Helpers of the approvals tests: real OpenSSH keys, enrolment through the core, waiting documents."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from approvals.entries import EnrolmentPayload, SignerSignature
from approvals.record import read_roster, record_enrolment
from approvals.roles import Role
from approvals.sshsig import sign_with_ssh_keygen
from approvals.statement import DecisionStatement, EnrolmentStatement, fields_digest
from ledger import EntryDraft, Ledger

FIELDS = {"total": {"value": "100.00", "confidence": 0.99, "tier": "rules", "page": 1}}


def make_key(directory: Path, name: str) -> Path:
    """A real Ed25519 key pair made by ssh-keygen; returns the private key's path."""
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path


def ssh_key_dict(private: Path) -> dict[str, str]:
    return {"kind": "ssh-ed25519", "public_key": private.with_suffix(".pub").read_text().strip()}


def sshsig(private: Path, message: bytes) -> dict[str, str]:
    return {"kind": "sshsig", "signature": sign_with_ssh_keygen(private, message)}


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class People:
    """Key files outside the data directory, like people's own machines, and enrolment through the core."""

    ledger: Ledger
    keys_dir: Path
    keys: dict[str, Path] = field(default_factory=dict)

    def key(self, name: str) -> Path:
        if name not in self.keys:
            self.keys[name] = make_key(self.keys_dir, name)
        return self.keys[name]

    def enrol(self, action: str, person: str, roles: list[Role], *, signers: list[str]) -> int:
        key = ssh_key_dict(self.key(person)) if action in {"add", "set-key"} else None
        statement = EnrolmentStatement(
            action=action,  # type: ignore[arg-type]
            person=person,
            roles=roles,
            key=key,
            roster_version=read_roster(self.ledger).version,
            signed_at=now_text(),
        )
        signatures = [SignerSignature(signer=s, signature=sshsig(self.key(s), statement.message())) for s in signers]
        return record_enrolment(self.ledger, EnrolmentPayload(statement=statement, signatures=signatures))

    def statement(self, doc: str, signer: str, decision: str = "approve", **overrides: str) -> DecisionStatement:
        round_value = _round_of(self.ledger, doc)
        values = {
            "doc": doc,
            "round": round_value,
            "fields_sha256": fields_digest(FIELDS),
            "decision": decision,
            "reason": "checked against the purchase order",
            "signer": signer,
            "signed_at": now_text(),
        }
        return DecisionStatement.model_validate(values | overrides)


def _round_of(ledger: Ledger, doc: str) -> str:
    rounds = [entry.data["round"] for entry in ledger.entries_for_doc(doc) if entry.kind == "approval.requested"]
    return rounds[-1] if rounds else "0" * 32


def wait_for_approval(ledger: Ledger, *, maker: str, required: int = 2, deadline_in: float = 3600) -> str:
    """Ledger a document the way the pipeline does when it needs people; returns its id."""
    doc = secrets.token_hex(32)
    deadline = (datetime.now(UTC) + timedelta(seconds=deadline_in)).isoformat()
    ledger.append_many(
        [
            EntryDraft("doc.claimed", doc, maker, {"source_hash": "h", "size": 1, "maker": maker}),
            EntryDraft("doc.decided", doc, "docval", {"outcome": "needs_approval", "rule": "high_value"}),
            new_round(doc, required=required, deadline=deadline),
        ]
    )
    return doc


def new_round(doc: str, *, required: int = 2, deadline: str | None = None, fields: dict | None = None) -> EntryDraft:
    deadline = deadline or (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    data = {
        "approvals_required": required,
        "deadline": deadline,
        "queue": "reviewer",
        "result_sha256": "0" * 64,
        "round": secrets.token_hex(16),
        "fields_sha256": fields_digest(fields or FIELDS),
    }
    return EntryDraft("approval.requested", doc, "docval", data)
