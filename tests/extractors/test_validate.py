"""Validation: identifiers against python-stdnum's own test data, the sample inbox's expected findings, properties."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.policy_input import decision_input
from docval.domain import DocKind, ExtractedField, Outcome, Tier
from docval.hashing import KeyedHasher
from docval.settings import ExtractSettings
from docval.store import DocumentStore
from extractors.samples import write_sample_inbox
from extractors.schemas import Extraction
from extractors.validate import duplicates, identifier_is_valid, validate
from flows.policy import DEFAULT_POLICY_YAML, Policy

IDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ids-python-stdnum" / "ids.jsonl"
LIMITS = ExtractSettings()
TODAY = date(2026, 12, 31)


def _options(text: str | None) -> dict[str, bool]:
    """The doctest's call options, e.g. ``check_country=False``."""
    pairs = (item.split("=") for item in (text or "").split(",") if item.strip())
    return {key.strip(): value.strip() == "True" for key, value in pairs}


def _id_groups() -> list[tuple[str, bool, list[tuple[str, dict[str, bool]]]]]:
    groups: dict[tuple[str, bool], list[tuple[str, dict[str, bool]]]] = defaultdict(list)
    for line in IDS.read_text().splitlines():
        record = json.loads(line)
        groups[(record["scheme"], record["valid"])].append((record["value"], _options(record.get("options"))))
    return [(scheme, valid, values) for (scheme, valid), values in sorted(groups.items())]


@pytest.mark.parametrize(("scheme", "valid", "values"), _id_groups(), ids=lambda v: v if isinstance(v, str) else None)
def test_identifiers_match_stdnum_test_data(
    scheme: str, valid: bool, values: list[tuple[str, dict[str, bool]]]
) -> None:
    wrong = [value for value, options in values if identifier_is_valid(scheme, value, **options) != valid]
    assert wrong == []


def _extraction(kind: DocKind, values: dict[str, Any]) -> Extraction:
    return Extraction(
        kind=kind,
        fields={name: ExtractedField(value=v, confidence=0.9, tier=Tier.RULES, page=1) for name, v in values.items()},
    )


def test_sample_inbox_raises_exactly_the_expected_findings(tmp_path: Path) -> None:
    docs = write_sample_inbox(tmp_path / "inbox", count=16)
    store = DocumentStore(tmp_path / "store.duckdb")
    hasher = KeyedHasher(b"k" * 32)
    checked = 0
    for number, sample in enumerate(docs):
        if sample.kind is None:
            continue
        doc = f"{number:064x}"
        store.claim(doc, doc)
        extraction = _extraction(sample.kind, sample.fields)
        findings = validate(extraction, settings=LIMITS, today=TODAY)
        findings += duplicates({doc: extraction}, store, hasher).get(doc, [])  # as the pipeline's validate step
        expected = [code for code in sample.findings if code != "EINVOICE_MISMATCH"]  # cross_check's, not ours
        assert sorted(f.code for f in findings) == expected, sample.file
        for finding in findings:  # messages name fields, never values
            assert not any(len(str(v)) > 3 and str(v) in finding.message for v in sample.fields.values())
        checked += 1
    assert checked == 14


@pytest.mark.parametrize("claimed", ["one by one", "in one statement"])
def test_duplicate_is_the_later_document_even_when_the_first_is_revalidated(tmp_path: Path, claimed: str) -> None:
    """Also when both were claimed in one batch (``claim_many``): the earlier claim is the original, not both."""
    store = DocumentStore(tmp_path / "store.duckdb")
    hasher = KeyedHasher(b"k" * 32)
    invoice = _extraction(DocKind.INVOICE, {"invoice_number": "INV 7", "seller_vat_id": "DE136695976"})
    first, second = "b" * 64, "a" * 64  # the later claim sorts first by id

    def codes(doc: str) -> set[str]:
        return {f.code for f in duplicates({doc: invoice}, store, hasher).get(doc, [])}

    if claimed == "one by one":
        store.claim(first, first)
        store.claim(second, second)
    else:
        store.claim_many([(first, first), (second, second)])
    assert "DUPLICATE" not in codes(first)
    assert "DUPLICATE" in codes(second)
    assert "DUPLICATE" not in codes(first)  # re-validated after a restart: still the original
    record = store.get(second)
    assert record is not None and record.number_key and "INV" not in record.number_key  # keyed hash, no value


def test_field_invalid_and_dates() -> None:
    findings = validate(
        _extraction(
            DocKind.INVOICE,
            {"issue_date": "tomorrow", "due_date": (TODAY + timedelta(days=800)).isoformat(), "grand_total": "12,5"},
        ),
        settings=LIMITS,
        today=TODAY,
    )
    codes = sorted(f.code for f in findings)
    assert codes == ["DATE_FUTURE", "FIELD_INVALID", "FIELD_INVALID", "MISSING_FIELD"]
    kyc = validate(
        _extraction(
            DocKind.KYC_FORM,
            {
                "full_name": "A B",
                "address": "x",
                "date_of_birth": "2030-01-01",
                "national_id": "12345678901",
                "iban": "DE89 3704",
            },
        ),
        settings=LIMITS,
        today=TODAY,
    )
    assert sorted(f.code for f in kyc) == ["DATE_FUTURE", "IBAN_INVALID", "NATIONAL_ID_INVALID"]


CENT = Decimal("0.01")
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
lines = st.lists(st.tuples(st.integers(min_value=1, max_value=50), money), min_size=1, max_size=8)


def _invoice(items: list[tuple[int, Decimal]], rate: Decimal) -> dict[str, Any]:
    amounts = [(q * p).quantize(CENT) for q, p in items]
    net = sum(amounts, Decimal(0))
    tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "line_items": [
            {"quantity": str(q), "unit_price": str(p), "amount": str(a)}
            for (q, p), a in zip(items, amounts, strict=True)
        ],
        "net_total": str(net),
        "tax_rate": str(rate),
        "tax_total": str(tax),
        "grand_total": str(net + tax),
    }


def _arith_codes(values: dict[str, Any]) -> set[str]:
    findings = validate(_extraction(DocKind.INVOICE, values), settings=LIMITS, today=TODAY)
    return {f.code for f in findings} - {"MISSING_FIELD"}


@settings(max_examples=60, deadline=None)
@given(items=lines, rate=st.sampled_from([Decimal(0), Decimal(7), Decimal(19), Decimal("20.5")]))
def test_consistent_invoices_raise_no_arithmetic_finding(items: list[tuple[int, Decimal]], rate: Decimal) -> None:
    assert _arith_codes(_invoice(items, rate)) == set()


@settings(max_examples=60, deadline=None)
@given(
    items=lines,
    rate=st.sampled_from([Decimal(7), Decimal(19)]),
    delta=st.decimals(min_value=Decimal("0.03"), max_value=Decimal("1000"), places=2),
    sign=st.sampled_from([1, -1]),
)
def test_any_change_beyond_tolerance_is_caught(
    items: list[tuple[int, Decimal]], rate: Decimal, delta: Decimal, sign: int
) -> None:
    values = _invoice(items, rate)
    values["grand_total"] = str(Decimal(values["grand_total"]) + sign * delta)
    assert _arith_codes(values) == {"TOTAL_MISMATCH"}
    values = _invoice(items, rate)
    values["tax_total"] = str(Decimal(values["tax_total"]) + sign * delta)
    assert _arith_codes(values) == {"TOTAL_MISMATCH", "TAX_MISMATCH"}
    values = _invoice(items, rate)
    values["line_items"][0]["amount"] = str(Decimal(values["line_items"][0]["amount"]) + sign * delta)
    assert _arith_codes(values) == {"LINE_MISMATCH"}


@settings(max_examples=30, deadline=None)
@given(items=lines, delta=st.decimals(min_value=Decimal("-0.02"), max_value=Decimal("0.02"), places=2))
def test_rounding_within_tolerance_is_accepted(items: list[tuple[int, Decimal]], delta: Decimal) -> None:
    values = _invoice(items, Decimal(19))
    values["grand_total"] = str(Decimal(values["grand_total"]) + delta)
    assert _arith_codes(values) == set()


def _rules_table(net: str, tax: str, total: str, extra_line: str = "") -> Extraction:
    from extractors.rules import Page, extract_rules

    text = (
        "Description          Qty     Unit price      Amount\n"
        "Widget                 2          10,00       20,00\n"
        "Gadget                 1           5,00        5,00\n"
        f"{extra_line}"
        f"Net total                                  {net}\n"
        f"VAT 19%                                     {tax}\n"
        f"Total                                      {total}\n"
    )
    return Extraction(kind=DocKind.INVOICE, fields=extract_rules([Page(1, text)], DocKind.INVOICE))


def _line_codes(extraction: Extraction) -> list[str]:
    found = validate(extraction, settings=LIMITS, today=TODAY)
    return [finding.code for finding in found if finding.code == "LINE_MISMATCH"]


def test_rules_line_items_are_summed_only_when_the_table_was_read_whole() -> None:
    assert _line_codes(_rules_table("25,00", "4,75", "29,75")) == []
    assert _line_codes(_rules_table("26,00", "4,94", "30,94")) == ["LINE_MISMATCH"]  # a net that is not the rows'
    # A line ending in an amount that is not an item row (no quantity x price): the table is partial, its sum is
    # no evidence, and an honest invoice gets no finding.
    partial = _rules_table("32,50", "6,18", "38,68", "Shipping flat rate                      7,50\n")
    assert partial.fields["line_items"].confidence < 0.8
    assert _line_codes(partial) == []


_BROKEN = {"iban": ("DE00370400440532013000", "IBAN_CHECKSUM"), "seller_vat_id": ("DE136695977", "VAT_ID_INVALID")}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(_BROKEN)), confidence=st.floats(min_value=0.0, max_value=1.0))
def test_a_failed_check_on_a_reading_likely_wrong_goes_to_a_person(name: str, confidence: float) -> None:
    """The attack of the scanner's noise: an honest scanned invoice whose VAT id tesseract misread was rejected."""
    value, code = _BROKEN[name]
    field = ExtractedField(value=value, confidence=confidence, tier=Tier.RULES, page=1)
    extraction = Extraction(kind=DocKind.INVOICE, fields={name: field})
    found = validate(extraction, settings=LIMITS, today=TODAY)
    [finding] = [f for f in found if f.fields == [name]]
    assert finding.code == (code if confidence >= 0.5 else "UNSURE_IDENTIFIER")
    assert value not in finding.message  # messages name fields, never values
    policy = Policy.model_validate(yaml.safe_load(DEFAULT_POLICY_YAML))  # as the appliance decides by default
    facts = decision_input(DocKind.INVOICE, extraction.fields, sorted({f.code for f in found}))
    outcome = policy.decide(facts, now=datetime.now(UTC)).outcome
    assert (outcome is Outcome.REJECT) is (confidence >= 0.5)
