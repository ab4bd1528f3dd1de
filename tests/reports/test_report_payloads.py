"""The report's fast payload readers against the docval.events models: same facts, same KPIs, same refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from reporthelpers import lifecycle_drafts

from approvals.entries import DecisionPayload
from approvals.roles import Role
from approvals.statement import DecisionStatement
from docval.domain import DocKind, Finding, ModelCall, Outcome, Tier
from docval.events import (
    DecidedPayload,
    EntryKind,
    ExtractedPayload,
    MaskedPayload,
    ValidatedPayload,
)
from ledger import Entry
from ledger.canonical import canonical_json
from reports import ReportError, compute_kpis, fold_entries
from reports.payloads import FACT_KINDS, facts_of, read_facts

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_codes = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)
_money = st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False, places=6)

_calls = st.builds(
    ModelCall,
    tier=st.sampled_from(Tier),
    model=_text,
    prompt_sha256=_text,
    tokens_in=st.integers(0, 10**7),
    tokens_out=st.integers(0, 10**7),
    usd=_money,
    latency_ms=st.floats(0, 1e6),
    ok=st.booleans(),
    error=st.none() | _text,
)
_field_specs = st.dictionaries(
    st.sampled_from(["tier", "confidence", "page"]), st.none() | st.sampled_from(Tier) | _text | st.integers(-9, 9)
)
_payloads: dict[str, st.SearchStrategy[BaseModel]] = {
    EntryKind.EXTRACTED: st.builds(
        ExtractedPayload,
        kind=st.sampled_from(DocKind),
        fields=st.dictionaries(_text, _field_specs, max_size=4),
        calls=st.lists(_calls, max_size=3),
        prompt_versions=st.dictionaries(_text, _text, max_size=3),
    ),
    EntryKind.VALIDATED: st.builds(
        ValidatedPayload, findings=st.lists(st.builds(Finding, code=_codes, message=_text), max_size=3)
    ),
    EntryKind.MASKED: st.builds(MaskedPayload, entities=st.dictionaries(_text, st.integers(-5, 10**6), max_size=4)),
    EntryKind.DECIDED: st.builds(DecidedPayload, outcome=st.sampled_from(Outcome), rule=_text),
    EntryKind.APPROVAL_GRANTED: st.builds(
        DecisionPayload,
        statement=st.builds(
            DecisionStatement,
            doc=st.from_regex(r"\A[0-9a-f]{64}\Z"),
            round=st.from_regex(r"\A[0-9a-f]{32}\Z"),
            fields_sha256=st.from_regex(r"\A[0-9a-f]{64}\Z"),
            decision=st.sampled_from(["approve", "reject"]),
            reason=_text.filter(bool),
            signer=st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,10}\Z"),
            signed_at=_text,
        ),
        signature=st.just({"kind": "sshsig", "signature": "-"}),
        role=st.sampled_from(Role),
        roster_version=st.integers(0, 100),
        policy=_text,
    ),
}
# The values of each kind the report reads: where a mutation must be judged exactly as the model judges it.
_USED_PATHS: dict[str, list[tuple[str | int, ...]]] = {
    EntryKind.EXTRACTED: [
        ("kind",),
        ("fields",),
        ("calls",),
        ("prompt_versions",),
        *(("calls", 0, key) for key in ("tier", "model", "tokens_in", "tokens_out", "usd", "ok")),
    ],
    EntryKind.VALIDATED: [("findings",), ("findings", 0), ("findings", 0, "code")],
    EntryKind.MASKED: [("entities",)],
    EntryKind.DECIDED: [("outcome",)],
    EntryKind.APPROVAL_GRANTED: [("statement", "signer"), ("role",)],
}
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | _text | st.sampled_from(["1", "0.10", "1E+2", " 2", "1_0", "-0", "NaN", "Infinity", "rules", "invoice",
                               "auto_approve", "ABC", "abc"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _as_ledger_holds_it(payload: BaseModel) -> dict[str, Any]:
    """What a reader of the ledger gets back: the model's JSON dump through RFC 8785 canonical bytes."""
    return orjson.loads(canonical_json(payload.model_dump(mode="json")))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(FACT_KINDS)))
def test_fast_reader_gives_the_models_facts(data: st.DataObject, kind: str) -> None:
    payload = data.draw(_payloads[kind])
    assert read_facts(kind, _as_ledger_holds_it(payload)) == facts_of(kind, payload)


def _container(value: Any, path: tuple[str | int, ...]) -> Any:
    """The list or dict holding ``path``'s last step, or None if this payload has no such place."""
    for step in path[:-1]:
        present = (isinstance(value, list) and isinstance(step, int) and len(value) > step) or (
            isinstance(value, dict) and step in value
        )
        if not present:
            return None
        value = value[step]
    return value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(FACT_KINDS)))
def test_fast_reader_never_disagrees_with_the_model_on_what_the_report_reads(data: st.DataObject, kind: str) -> None:
    """Any value, or none, in a field the report reads: the model's facts if pydantic accepts it, else its error."""
    raw = _as_ledger_holds_it(data.draw(_payloads[kind]))
    path = data.draw(st.sampled_from(_USED_PATHS[kind]))
    container, last = _container(raw, path), path[-1]
    if isinstance(container, dict) or (isinstance(container, list) and container):
        if data.draw(st.booleans(), label="remove"):
            del container[last if isinstance(container, dict) or last == 0 else 0]
        else:
            container[last] = data.draw(_json_values)
    try:
        expected = facts_of(kind, FACT_KINDS[kind].model_validate(raw))
    except ValidationError:
        with pytest.raises(ValidationError):
            read_facts(kind, raw)
    else:
        assert read_facts(kind, raw) == expected


def test_non_canonical_but_valid_spellings_fall_back_to_the_model() -> None:
    call = {"tier": "remote", "model": "m", "prompt_sha256": "p", "tokens_in": "12", "tokens_out": 3.0,
            "usd": 0.5, "latency_ms": 1, "ok": True}  # fmt: skip
    facts = read_facts(EntryKind.EXTRACTED, {"kind": "invoice", "fields": {}, "calls": [call]})
    assert facts.calls[0].tokens == 15 and facts.calls[0].usd == Decimal("0.5")
    with pytest.raises(ValidationError):
        read_facts(EntryKind.EXTRACTED, {"kind": "invoice", "fields": {}, "calls": [{**call, "usd": -1}]})


def _ledger_records(documents: int, seed: int, *, every_kind: bool = False) -> list[Entry]:
    return [
        Entry.from_canonical(canonical_json(
            {"seq": seq, "prev": "0" * 64, "ts": ts, "kind": kind, "doc": doc, "actor": actor, "data": data}
        ))
        for seq, (ts, kind, doc, actor, data) in enumerate(lifecycle_drafts(documents, seed, every_kind=every_kind))
    ]  # fmt: skip


def _assert_folds_agree(records: list[Entry]) -> None:
    fast, validated = fold_entries(records, validate=False), fold_entries(records)
    assert fast.docs == validated.docs and fast.entries == validated.entries == len(records)
    assert [(e.seq, e.kind, e.payload) for e in fast.events] == [(e.seq, e.kind, e.payload) for e in validated.events]
    assert compute_kpis(list(fast.docs.values()), fast.events, fast.events) == compute_kpis(
        list(validated.docs.values()), validated.events, validated.events
    )


def test_fast_fold_agrees_with_the_validated_fold_on_every_entry_kind() -> None:
    records = _ledger_records(2000, 7, every_kind=True)
    assert {record.kind for record in records} == set(EntryKind)
    docs = fold_entries(records, validate=False).docs.values()
    assert any(d.escalated for d in docs) and any(d.refusals for d in docs) and any(d.quarantine_reason for d in docs)
    _assert_folds_agree(records)


@settings(max_examples=15, deadline=None)
@given(documents=st.integers(1, 300), seed=st.integers(0, 2**32))
def test_fast_fold_gives_the_validated_folds_lineages_and_kpis(documents: int, seed: int) -> None:
    _assert_folds_agree(_ledger_records(documents, seed))


def test_fast_fold_names_the_seq_of_a_payload_the_model_rejects() -> None:
    records = _ledger_records(5, 1)
    bad = next(r for r in records if r.kind == EntryKind.DECIDED)
    bad.data["outcome"] = "approve_anyway"
    with pytest.raises(ReportError, match=f"seq {bad.seq}: doc.decided payload does not match docval.events"):
        fold_entries(records, validate=False)
