"""The policy's input is built by one function, the same for the pipeline, the benchmarks and the verifier.

A straight-through figure from benchmarks/model_bench.py means something only if the benchmark decides on
the input the appliance decides on, and an auto-decision verifies offline only if the verifier derives the
same input from the ledgered facts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import ModuleType

from hypothesis import given
from hypothesis import strategies as st

from approvals.policy_input import decision_amount, decision_input
from docval.domain import DocKind, ExtractedField
from ledger.bundle_verify import DecisionFacts

DOC = "d" * 64


def _field(value: object, confidence: float = 0.99) -> ExtractedField:
    return ExtractedField(value=value, confidence=confidence, tier="rules", page=1)


def test_input_from_fields_and_findings() -> None:
    fields = {
        "grand_total": _field("1190.00", 0.97),
        "seller_name": _field("<ORGANIZATION_1>", 0.99),
        "line_items": _field([], 0.2),  # marks whether the table was read whole: not a probability
    }
    facts = decision_input(DocKind.INVOICE, fields, ["TOTAL_MISMATCH", "DUPLICATE", "TOTAL_MISMATCH"])
    assert facts.finding_codes == ["DUPLICATE", "TOTAL_MISMATCH"]
    assert facts.amount == Decimal("1190.00")
    assert facts.min_confidence == 0.97


def test_an_unreadable_or_missing_total_is_no_amount() -> None:
    assert decision_amount({"grand_total": _field("12,50 EUR")}) is None
    assert decision_amount({"grand_total": _field(None)}) is None
    assert decision_amount({}) is None
    assert decision_input(DocKind.KYC_FORM, {}, []).min_confidence is None


@given(
    confidences=st.dictionaries(
        st.sampled_from(["grand_total", "iban", "seller_name", "line_items"]), st.floats(0, 1), max_size=4
    ),
    total=st.one_of(st.none(), st.decimals(-(10**6), 10**6, places=2).map(str), st.just("n/a")),
    codes=st.lists(st.sampled_from(["DUPLICATE", "IBAN_CHECKSUM", "MISSING_FIELD"]), max_size=4),
)
def test_the_verifier_derives_the_same_input_from_the_ledgered_facts(
    confidences: dict[str, float], total: str | None, codes: list[str]
) -> None:
    fields = {name: _field(total if name == "grand_total" else "x", value) for name, value in confidences.items()}
    facts = decision_input(DocKind.INVOICE, fields, codes)
    amount = decision_amount(fields)
    verifier = DecisionFacts()
    verifier.see({"kind": "doc.extracted", "doc": DOC, "data": {"kind": "invoice", "fields": _ledgered(fields)}})
    verifier.see({"kind": "doc.validated", "doc": DOC, "data": {"findings": [{"code": code} for code in codes]}})
    ledgered = verifier.docs[DOC] | {"amount": str(amount) if amount is not None else None}  # as doc.decided has it
    assert facts.model_dump(mode="json") == ledgered


def _ledgered(fields: dict[str, ExtractedField]) -> dict[str, dict]:
    return {name: {"confidence": field.confidence} for name, field in fields.items()}


def test_the_model_benchmark_decides_on_the_pipelines_input(load_benchmark: Callable[[str], ModuleType]) -> None:
    bench = load_benchmark("model_bench")
    assert bench.decision_input is decision_input
    assert not hasattr(bench, "_facts")  # no second construction beside it
