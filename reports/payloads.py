"""What the report reads of the five payload kinds every document has, from raw ledger JSON or via docval.events.

A 100,000-document ledger holds about 500,000 extracted/validated/masked/
decided/granted payloads. Validating each through its ``docval.events`` model
built objects the report never looked at and cost seconds, so the report takes
the few values it uses straight from the decoded JSON (``read_facts``) with an
exact type check on each. Anything that is not exactly what docval writes (a
missing key, another type, a value out of range, another spelling) is handed
to the model: pydantic either accepts it (and the facts come from the model,
``facts_of``) or names the field at fault. So whatever this path accepts in a
field the report uses, the model accepts too, with the same value (a property
test holds it). Fields the report does not use are not checked here;
``fold_entries(validate=True)`` checks every payload against its model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from approvals.entries import DecisionPayload
from docval.domain import DocKind, Outcome, Tier
from docval.events import (
    DecidedPayload,
    EntryKind,
    ExtractedPayload,
    MaskedPayload,
    ValidatedPayload,
)

__all__ = ["FACT_KINDS", "Approver", "Call", "Decided", "Extraction", "Facts", "facts_of", "read_facts"]


@dataclass(frozen=True, slots=True)
class Call:
    """One model call as the cost figures count it."""

    tier: str
    model: str
    tokens: int
    usd: Decimal
    ok: bool


@dataclass(frozen=True, slots=True)
class Extraction:
    kind: DocKind
    tiers: frozenset[str]  # of the fields and of the calls
    models: frozenset[str]
    calls: tuple[Call, ...]
    prompt_versions: dict[str, str]


@dataclass(frozen=True, slots=True)
class Decided:
    """The policy's decision: what an auditor asks first is which rule decided, and over what amount."""

    outcome: Outcome
    rule: str
    amount: str | None
    policy: str


@dataclass(frozen=True, slots=True)
class Approver:
    """One person's signed decision (``decision`` approve | reject), when they signed it and why (masked)."""

    user: str
    role: str
    decision: str
    at: str
    reason: str


Facts = Extraction | tuple[str, ...] | dict[str, int] | Decided | Approver

FACT_KINDS: dict[str, type[BaseModel]] = {
    EntryKind.EXTRACTED: ExtractedPayload,
    EntryKind.VALIDATED: ValidatedPayload,
    EntryKind.MASKED: MaskedPayload,
    EntryKind.DECIDED: DecidedPayload,
    EntryKind.APPROVAL_GRANTED: DecisionPayload,
}


_CODE = re.compile(r"[A-Z][A-Z0-9_]*")  # docval.domain.Finding.code


class _NotAsWritten(Exception):
    """A value is not in the form docval writes it: let the model decide."""


def _str(value: object) -> str:
    if type(value) is not str:
        raise _NotAsWritten
    return value


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise _NotAsWritten
    return value


def _money(value: object) -> Decimal:
    """A finite, non-negative Decimal as pydantic writes it (``str(amount)``); other spellings go to the model."""
    text = _str(value)
    amount = Decimal(text)
    if str(amount) != text or not amount.is_finite() or amount < 0:
        raise _NotAsWritten
    return amount


def _code(finding: object) -> str:
    code = _str(_dict(finding)["code"])
    if not _CODE.fullmatch(code):
        raise _NotAsWritten
    return code


def _dict(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _NotAsWritten
    return value


def _list(value: object) -> list[Any]:
    if type(value) is not list:
        raise _NotAsWritten
    return value


def _field_tiers(fields: dict[str, Any]) -> set[str]:
    return {str(spec.get("tier")) for spec in fields.values() if spec.get("tier")}


def _raw_call(call: object) -> Call:
    call = _dict(call)
    ok = call["ok"]
    if type(ok) is not bool:
        raise _NotAsWritten
    tokens = _count(call["tokens_in"]) + _count(call["tokens_out"])
    return Call(Tier(_str(call["tier"])).value, _str(call["model"]), tokens, _money(call["usd"]), ok)


def _raw_extraction(data: dict[str, Any]) -> Extraction:
    fields = _dict(data["fields"])
    if any(type(spec) is not dict for spec in fields.values()):
        raise _NotAsWritten
    calls = tuple(map(_raw_call, _list(data.get("calls", []))))
    prompts = _dict(data.get("prompt_versions", {}))
    if any(type(version) is not str for version in prompts.values()):
        raise _NotAsWritten
    return Extraction(
        DocKind(_str(data["kind"])), frozenset(_field_tiers(fields).union(call.tier for call in calls)),
        frozenset(call.model for call in calls), calls, prompts,
    )  # fmt: skip


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _raw_decided(data: dict[str, Any]) -> Decided:
    return Decided(
        Outcome(_str(data["outcome"])),
        _str(data["rule"]),
        _optional_str(data.get("amount")),
        _str(data.get("policy", "")),
    )


def _raw_entities(data: dict[str, Any]) -> dict[str, int]:
    entities = _dict(data["entities"])
    for count in entities.values():
        if type(count) is not int:
            raise _NotAsWritten
    return entities


_READERS = {
    EntryKind.EXTRACTED: _raw_extraction,
    EntryKind.VALIDATED: lambda data: tuple(map(_code, _list(data["findings"]))),
    EntryKind.MASKED: _raw_entities,
    EntryKind.DECIDED: _raw_decided,
}  # approval.granted: few per document, always read through the approvals core's model


def facts_of(kind: str, payload: BaseModel) -> Facts:
    """The facts from a payload its ``FACT_KINDS`` model has validated."""
    if isinstance(payload, ExtractedPayload):
        calls = tuple(Call(c.tier.value, c.model, c.tokens_in + c.tokens_out, c.usd, c.ok) for c in payload.calls)
        tiers = _field_tiers(payload.fields).union(call.tier for call in calls)
        models = frozenset(call.model for call in calls)
        return Extraction(payload.kind, frozenset(tiers), models, calls, dict(payload.prompt_versions))
    if isinstance(payload, ValidatedPayload):
        return tuple(finding.code for finding in payload.findings)
    if isinstance(payload, MaskedPayload):
        return dict(payload.entities)
    if isinstance(payload, DecidedPayload):
        return Decided(payload.outcome, payload.rule, payload.amount, payload.policy)
    if isinstance(payload, DecisionPayload):
        signed = payload.statement
        return Approver(signed.signer, payload.role.value, signed.decision, signed.signed_at, signed.reason)
    raise TypeError(f"{kind}: no facts are read from {type(payload).__name__}")


def read_facts(kind: str, data: object) -> Facts:
    """The facts of a ``FACT_KINDS`` payload; raises pydantic's ValidationError when the model rejects it."""
    try:
        return _READERS[kind](_dict(data))
    except (_NotAsWritten, KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return facts_of(kind, FACT_KINDS[kind].model_validate(data))
