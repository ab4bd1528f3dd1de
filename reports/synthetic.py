"""Synthetic ledger content: realistic document lifecycles at any scale, for tests, the benchmark and demos.

Every payload is built through the ``docval.events`` models, so generated
entries are exactly what flows/ would write (a model change breaks the
generator, not the report silently). The mix covers every branch the report
shows: auto-approval, one- and two-approver approvals, refused attempts,
escalations, rejections, quarantines, pending approvals, duplicates, budget
breaches, PII reveals/erasures, config versions and eval gates; ``populate_ledger``
adds a real key rotation halfway (ordered by the admin), which only the ledger itself can write.
Values are ids, codes and keyed-hash-like hex only: no personal data.

The people are real to the auditor's ``verify.py``: an admin enrols them with
signed ``person.changed`` entries, and every decision, reveal, erasure and key
rotation carries an SSH signature (made in process with keys derived from the
person's name, so a seed gives the same bytes) by the person enrolled at that point.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from approvals.entries import DecisionPayload, EnrolmentPayload, RefusedPayload, SignerSignature
from approvals.sshsig import public_key_line, sign_in_process
from approvals.statement import (
    DecisionStatement,
    EnrolmentStatement,
    EraseStatement,
    RevealStatement,
    RotationStatement,
)
from docval.domain import DocKind, DocState, Finding, ModelCall, Outcome, Tier
from docval.events import (
    BudgetExceededPayload,
    ClaimedPayload,
    ConfigAppliedPayload,
    DecidedPayload,
    DuplicatePayload,
    EntryKind,
    EscalatedPayload,
    EvalGatePayload,
    ExtractedPayload,
    FinalPayload,
    IngestedPayload,
    MaskedPayload,
    PiiErasedPayload,
    PiiRevealedPayload,
    QuarantinedPayload,
    ValidatedPayload,
)
from ledger import EntryDraft, Ledger

__all__ = ["SyntheticEntry", "populate_ledger", "populate_ledgers", "synthetic_entries"]

_FINDINGS = ("IBAN_CHECKSUM", "VAT_ID_INVALID", "TOTAL_MISMATCH", "DATE_ORDER", "MISSING_FIELD")
_QUARANTINE_REASONS = ("ENCRYPTED", "MALFORMED", "TOO_LARGE", "NOT_PDF")
_ENTITIES = ("PERSON", "EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER", "LOCATION")
_APPROVERS = (("ap-clerk-1", "reviewer"), ("ap-clerk-2", "reviewer"), ("cfo-1", "senior_reviewer"))
_ADMIN = "admin-1"
_PEOPLE = {  # enrolled in this order; the first is the trust anchor
    _ADMIN: ["admin"],
    "ap-clerk-1": ["reviewer"],
    "ap-clerk-2": ["reviewer"],
    "cfo-1": ["reviewer", "senior_reviewer"],
    "dpo-1": ["pii_reader"],
}
_PROMPTS = {"invoice-extract": "v3", "kyc-extract": "v2"}


@dataclass(frozen=True, slots=True)
class SyntheticEntry:
    """An entry as flows/ would hand it to the ledger: the ledger adds seq and prev."""

    ts: str
    kind: str
    doc: str | None
    actor: str
    data: dict[str, Any]


def _dump(payload: BaseModel) -> dict[str, Any]:
    return payload.model_dump(mode="json")


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def synthetic_entries(
    documents: int, *, start: datetime, days: int = 28, seed: int = 7, people: bool = True
) -> Iterator[SyntheticEntry]:
    """Entries for ``documents`` documents claimed evenly over ``days`` from ``start``, plus installation events.

    Deterministic for a given seed. Documents are processed one after another,
    as the batch flow does, so timestamps only grow.
    """
    rng = random.Random(seed)
    step = timedelta(days=days) / max(documents, 1)
    yield from _installation_start(start, people=people)
    doc = ""
    for index in range(documents):
        moment = start + step * index
        doc = hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()
        yield from _document(rng, doc, moment, index)
        if index and index % 5000 == 0:
            yield from _installation_events(rng, moment + step / 2, doc)


def _key(person: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"docval synthetic {person}".encode()).digest())


def _sshsig(person: str, message: bytes) -> dict[str, str]:
    return {"kind": "sshsig", "signature": sign_in_process(_key(person), message)}


def _rotation_consent(old: str, new: str) -> dict[str, Any]:
    """The admin's signed order of a key rotation (``approvals.actions.rotation_consent``, made in process)."""
    statement = RotationStatement(old_key=old, new_key=new, signer=_ADMIN, signed_at=_ts(datetime.now(UTC)))
    return {"statement": statement.model_dump(mode="json"), "signature": _sshsig(_ADMIN, statement.message())}


def _enrolment(ts: str) -> Iterator[SyntheticEntry]:
    """``person.changed`` entries: the admin enrols themself (the trust anchor), then signs each other person in."""
    for version, (person, roles) in enumerate(_PEOPLE.items()):
        key = {"kind": "ssh-ed25519", "public_key": public_key_line(_key(person).public_key())}
        statement = EnrolmentStatement(
            action="add", person=person, roles=roles, key=key, roster_version=version, signed_at=ts
        )
        signatures = (
            [] if version == 0 else [SignerSignature(signer=_ADMIN, signature=_sshsig(_ADMIN, statement.message()))]
        )
        payload = EnrolmentPayload(statement=statement, signatures=signatures)
        yield SyntheticEntry(ts, EntryKind.PERSON_CHANGED, None, _ADMIN, _dump(payload))


def _installation_start(moment: datetime, *, people: bool) -> Iterator[SyntheticEntry]:
    ts = _ts(moment)
    if people:  # an installation's roster: in its root ledger only
        yield from _enrolment(ts)
    for name, version in (("policy", "2026.11.1"), ("roles", "7"), ("pii", "3"), *_PROMPTS.items()):
        config = ConfigAppliedPayload(name=name, version=version, sha256=hashlib.sha256(name.encode()).hexdigest())
        yield SyntheticEntry(ts, EntryKind.CONFIG_APPLIED, None, "operator", _dump(config))
    gate = EvalGatePayload(
        suite="invoices-invoice2data",
        metric="field_accuracy",
        value=0.962,
        threshold=0.95,
        passed=True,
        config_versions=dict(_PROMPTS),
    )
    yield SyntheticEntry(ts, EntryKind.EVAL_GATE, None, "ci", _dump(gate))


def _installation_events(rng: random.Random, moment: datetime, doc: str) -> Iterator[SyntheticEntry]:
    ts = _ts(moment)
    statement = RevealStatement(doc=doc, token="<PERSON_1>", signer="dpo-1", signed_at=ts)
    reveal = PiiRevealedPayload(
        user="dpo-1", role="pii_reader", token="<PERSON_1>", subject=_hex(rng), revealed_at=ts,
        statement=statement.model_dump(mode="json"), signature=_sshsig("dpo-1", statement.message()),
    )  # fmt: skip
    yield SyntheticEntry(ts, EntryKind.PII_REVEALED, doc, "dpo-1", _dump(reveal))
    subject = _hex(rng)
    order = EraseStatement(subject=subject, signer="dpo-1", signed_at=ts)
    erased = PiiErasedPayload(
        subject=subject, entries=1, key_destroyed=True, erased_at=ts,
        statement=order.model_dump(mode="json"), signature=_sshsig("dpo-1", order.message()),
    )  # fmt: skip
    yield SyntheticEntry(ts, EntryKind.PII_ERASED, None, "dpo-1", _dump(erased))
    budget = BudgetExceededPayload(
        scope="day", tier=Tier.REMOTE, limit_usd="50.00", spent_usd="50.02", action="fallback"
    )
    yield SyntheticEntry(ts, EntryKind.BUDGET_EXCEEDED, None, "worker", _dump(budget))


def _document(rng: random.Random, doc: str, moment: datetime, index: int) -> Iterator[SyntheticEntry]:
    """One document's entries; the roll picks its path through the life of a document."""
    roll = rng.random()
    clock = [moment]

    def entry(
        kind: str, payload: BaseModel | dict[str, Any], actor: str = "worker", seconds: float = 0.4
    ) -> SyntheticEntry:
        clock[0] += timedelta(seconds=seconds * (0.5 + rng.random()))
        data = _dump(payload) if isinstance(payload, BaseModel) else payload
        return SyntheticEntry(_ts(clock[0]), kind, doc, actor, data)

    yield entry(EntryKind.CLAIMED, ClaimedPayload(source_hash=_hex(rng), size=20_000 + index % 90_000), "watcher", 0)
    if roll < 0.03:
        reason = _QUARANTINE_REASONS[index % len(_QUARANTINE_REASONS)]
        yield entry(EntryKind.QUARANTINED, QuarantinedPayload(reason=reason, stage="ingest"))
        return
    yield entry(EntryKind.INGESTED, IngestedPayload(pages=1 + index % 3, text_pages=1 + index % 3, ocr_pages=0))
    kind = DocKind.INVOICE if roll < 0.85 else DocKind.KYC_FORM
    yield entry(EntryKind.EXTRACTED, _extraction(rng, kind), seconds=1.5)
    findings = [] if roll < 0.80 else [_FINDINGS[index % len(_FINDINGS)]]
    if 0.90 <= roll < 0.91:
        yield entry(EntryKind.DUPLICATE, DuplicatePayload(of_doc=_hex(rng), reason="same_seller_and_number"))
        findings.append("DUPLICATE")
    validated = ValidatedPayload(findings=[Finding(code=code, message=f"{code} rule", fields=[]) for code in findings])
    yield entry(EntryKind.VALIDATED, validated)
    entities = {_ENTITIES[(index + offset) % len(_ENTITIES)]: 1 + offset for offset in range(index % 3 + 1)}
    yield entry(EntryKind.MASKED, MaskedPayload(entities=entities, subjects=[_hex(rng)]))
    if roll < 0.80:
        yield entry(EntryKind.DECIDED, DecidedPayload(outcome=Outcome.AUTO_APPROVE, rule="clean", amount="120.00"))
        yield entry(EntryKind.PUBLISHED, FinalPayload(state=DocState.PUBLISHED, result_sha256=_hex(rng)))
        return
    if roll < 0.84:
        yield entry(EntryKind.DECIDED, DecidedPayload(outcome=Outcome.REJECT, rule="hard_finding"))
        yield entry(EntryKind.REJECTED, FinalPayload(state=DocState.REJECTED, result_sha256=_hex(rng)))
        return
    two = roll >= 0.95
    deadline = _ts(clock[0] + timedelta(days=2))
    yield entry(
        EntryKind.DECIDED,
        DecidedPayload(
            outcome=Outcome.NEEDS_APPROVAL,
            rule="finding_or_amount",
            approvals_required=2 if two else 1,
            amount="15000.00",
            deadline=deadline,
        ),
    )
    yield entry(EntryKind.APPROVAL_REQUESTED, {"approvals_required": 2 if two else 1}, seconds=0.2)
    if roll >= 0.985:
        return  # still waiting for a human when the report runs
    if 0.93 <= roll < 0.94:
        yield entry(
            EntryKind.APPROVAL_ESCALATED, EscalatedPayload(deadline=deadline, escalated_to="cfo-1"), seconds=3600
        )
    if 0.94 <= roll < 0.95:
        refused = RefusedPayload(refused_because=["ap-clerk-1 submitted this document and cannot decide on it"])
        yield entry(EntryKind.APPROVAL_REFUSED, refused, "docval-approvals")
    approvers = _APPROVERS[1:] if two else _APPROVERS[index % 2 : index % 2 + 1]
    for user, role in approvers:
        yield entry(EntryKind.APPROVAL_GRANTED, _approval(rng, clock[0], doc, user, role), user, seconds=900)
    yield entry(EntryKind.PUBLISHED, FinalPayload(state=DocState.PUBLISHED, result_sha256=_hex(rng)))


def _extraction(rng: random.Random, kind: DocKind) -> ExtractedPayload:
    remote = rng.random() < 0.1
    calls = [_call(rng, Tier.LOCAL, "qwen2.5-3b-instruct", 900, 120, "0", 850.0)]
    if remote:
        calls.append(_call(rng, Tier.REMOTE, "gpt-4o-mini", 1100, 150, "0.0025", 2100.0))
    fields = {
        name: {
            "tier": Tier.REMOTE if remote and name == "seller_name" else Tier.RULES,
            "confidence": 0.97,
            "page": 1,
            "value_hash": _hex(rng),
        }
        for name in ("invoice_number", "issue_date", "seller_name", "grand_total")
    }
    return ExtractedPayload(
        kind=kind,
        fields=fields,
        calls=calls,
        prompt_versions=dict(_PROMPTS),
        tokens=sum(c.tokens_in + c.tokens_out for c in calls),
        usd=float(sum(c.usd for c in calls)),
    )


def _call(
    rng: random.Random, tier: Tier, model: str, tokens_in: int, tokens_out: int, usd: str, latency_ms: float
) -> ModelCall:
    return ModelCall(tier=tier, model=model, prompt_sha256=_hex(rng), tokens_in=tokens_in, tokens_out=tokens_out,
                     usd=Decimal(usd), latency_ms=latency_ms, ok=True)  # fmt: skip


def _approval(rng: random.Random, moment: datetime, doc: str, user: str, role: str) -> DecisionPayload:
    """A decision as the approvals core records it, signed by the enrolled person's (synthetic) key."""
    statement = DecisionStatement(
        doc=doc, round=_hex(rng)[:32], fields_sha256=_hex(rng), decision="approve",
        reason="checked against the order", signer=user, signed_at=_ts(moment),
    )  # fmt: skip
    return DecisionPayload(
        statement=statement, signature=_sshsig(user, statement.message()), role=role,
        roster_version=len(_PEOPLE), policy=_hex(rng),
    )  # fmt: skip


def populate_ledger(
    ledger: Ledger, documents: int, *, start: datetime, seed: int = 7, batch: int = 20_000, root: Ledger | None = None
) -> int:
    """Append synthetic entries in batches, rotate the signing key halfway, sign a checkpoint; returns the size.

    The ledger stamps entries with the time of appending, so the generated
    timestamps only order the lifecycle; reports over such a ledger cover "today".
    """
    return populate_ledgers([ledger], documents, start=start, seed=seed, batch=batch, root=root)[0]


def populate_ledgers(
    ledgers: list[Ledger],
    documents: int,
    *,
    start: datetime,
    seed: int = 7,
    batch: int = 20_000,
    root: Ledger | None = None,
) -> list[int]:
    """The same documents as ``populate_ledger``, spread over several ledgers (a cluster's shards); their sizes.

    Document ``i`` goes whole into ``ledgers[i % len(ledgers)]``, as workers sharing an inbox take turns;
    installation events go into the first. Every ledger rotates its key halfway and signs a checkpoint.
    The people's enrolment goes into ``root`` (once) when the ledgers are its shards: enrolment lives in the
    root ledger of an installation, and decisions in shards are checked against it; else into the first.
    """
    if root is not None and not any(entry.kind == EntryKind.PERSON_CHANGED for entry in root.entries()):
        root.append_many([EntryDraft(e.kind, e.doc, e.actor, e.data) for e in _enrolment(_ts(start))])
    drafts: list[list[EntryDraft]] = [[] for _ in ledgers]
    claimed = 0
    target = 0
    for entry in synthetic_entries(documents, start=start, seed=seed, people=root is None):
        if entry.kind == EntryKind.CLAIMED:
            claimed += 1
            if claimed == documents // 2 + 1:
                for index, ledger in enumerate(ledgers):
                    ledger.append_many(drafts[index])
                    drafts[index] = []
                    ledger.rotate_key(_ADMIN, _rotation_consent)
            target = (claimed - 1) % len(ledgers)
        index = target if entry.doc is not None else 0
        drafts[index].append(EntryDraft(entry.kind, entry.doc, entry.actor, entry.data))
        if len(drafts[index]) >= batch:
            ledgers[index].append_many(drafts[index])
            drafts[index] = []
    sizes = []
    for index, ledger in enumerate(ledgers):
        if drafts[index]:
            ledger.append_many(drafts[index])
        ledger.checkpoint()
        sizes.append(ledger.size())
    return sizes
