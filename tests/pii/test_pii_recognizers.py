"""docval's recognizers: what each must find, what it must leave alone, and Presidio's measured gaps closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docval.domain import DocKind
from pii import PiiEngine
from pii.label_recognizer import LabelRecognizer


def found(engine: PiiEngine, text: str) -> list[tuple[str, str]]:
    return [(span.entity, text[span.start : span.end]) for span in engine.spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 2226 6638 3615 1711 on file", ("CREDIT_CARD", "2226 6638 3615 1711")),  # Mastercard 2-series
        ("card 4716184375297162142 charged", ("CREDIT_CARD", "4716184375297162142")),  # 19-digit Visa
        ("my card number 630427373398 is lost", ("CREDIT_CARD", "630427373398")),  # 12-digit Maestro + context
        ("write to ops@corp.internal today", ("EMAIL_ADDRESS", "ops@corp.internal")),  # PSL rejects .internal
        ("my iban is gb42nawi04454264788619", ("IBAN_CODE", "gb42nawi04454264788619")),  # lower case
        ("They're not answering at 78 651 450", ("PHONE_NUMBER", "78 651 450")),
        ("Desk: +46 (0)8 928 571 38", ("PHONE_NUMBER", "+46 (0)8 928 571 38")),
        ("passport number X1234567", ("PASSPORT", "X1234567")),
        ("BSN national id 111222333", ("NATIONAL_ID", "111222333")),
        ("SSN 536-22-8726", ("US_SSN", "536-22-8726")),
    ],
)
def test_finds(patterns_engine: PiiEngine, text: str, expected: tuple[str, str]) -> None:
    assert expected in found(patterns_engine, text)


@pytest.mark.parametrize(
    "text",
    [
        "card 2226 6638 3615 1712 on file",  # Luhn fails
        "order 630427373398 shipped",  # 12 digits, no card context
        "INVOICES AND STATEMENTS",  # 8 capitals are not a BIC without context
        "ref 111222333 for the parcel",  # valid BSN digits but no id context
        "my iban is gb42nawi04454264788618",  # mod-97 fails
        "Company name: Acme Widgets GmbH",  # a company label is not a person label
    ],
)
def test_leaves_alone(patterns_engine: PiiEngine, text: str) -> None:
    assert found(patterns_engine, text) == []


def test_vat_and_bic_need_their_checks(patterns_engine: PiiEngine) -> None:
    text = "VAT DE136695976, BIC COBADEFFXXX"
    assert [(s.entity, text[s.start : s.end]) for s in patterns_engine.spans(text, DocKind.KYC_FORM)] == [
        ("VAT_ID", "DE136695976"),
        ("BIC", "COBADEFFXXX"),
    ]
    assert patterns_engine.spans("VAT DE136695977 BIC COBAXXFFXXX", DocKind.KYC_FORM) == []


def test_labels_in_a_structured_document() -> None:
    text = (
        "INVOICE 2024-17\n"
        "Bill to:\n"
        "Jane Q. Public\n"
        "12 Baker Street, London NW1 6XE\n"
        "\n"
        "Full name: Émile Zola   Date of birth: 2 April 1840\n"
        "Address: 21 rue de Bruxelles, Paris\n"
        "DOB: 1990-05-17\n"
        "Name\tEmail\tDate of birth\n"
        "Ana Souza\tana@example.org\t03/04/1985\n"
        "Li Wei\tli@example.org\t12.11.1979\n"
    )
    results = LabelRecognizer().analyze(text, [])
    got = sorted((r.entity_type, text[r.start : r.end]) for r in results)
    assert got == sorted(
        [
            ("PERSON", "Jane Q. Public"),
            ("ADDRESS", "12 Baker Street, London NW1 6XE"),
            ("PERSON", "Émile Zola"),
            ("DATE_OF_BIRTH", "2 April 1840"),
            ("ADDRESS", "21 rue de Bruxelles, Paris"),
            ("DATE_OF_BIRTH", "1990-05-17"),
            ("PERSON", "Ana Souza"),
            ("DATE_OF_BIRTH", "03/04/1985"),
            ("PERSON", "Li Wei"),
            ("DATE_OF_BIRTH", "12.11.1979"),
        ]
    )


def test_every_labelled_identifier_of_the_corpus_is_found(patterns_engine: PiiEngine, shared_data: Path) -> None:
    """All 462 card/IBAN/SSN values of presidio-research, each in a neutral sentence with its context word."""
    context = {"CREDIT_CARD": "card", "IBAN_CODE": "IBAN", "US_SSN": "SSN"}
    lines = (shared_data / "pii-presidio-research" / "derived_identifiers.jsonl").read_text().splitlines()
    missed = []
    for record in map(json.loads, lines):
        entity, value = record["entity_type"], record["value"]
        text = f"The {context[entity]} is {value} as agreed."
        if (entity, value) not in found(patterns_engine, text):
            missed.append(entity)
    assert len(lines) == 462
    assert missed == []


_PHONE_TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789+-() ./xX ext:Tel+49٠١٢٣４５abcZ\n")), max_size=40
) | st.sampled_from(["+49 30 1234", "Tel 0301 23", "(0)30 12", "+683 1234", "Call 911", "+1 202-555-0147 x12"])


@settings(max_examples=400, deadline=None)
@given(text=_PHONE_TEXT)
def test_the_digit_gate_answers_as_presidios_phone_recognizer(text: str) -> None:
    """The worker's phone recognizer skips texts with too few digits; on any text it must agree with Presidio's."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from pii.recognizers import DigitGatedPhoneRecognizer

    def found(recognizer: PhoneRecognizer) -> list[tuple[int, int, float]]:
        return sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, ["PHONE_NUMBER"]))

    assert found(DigitGatedPhoneRecognizer()) == found(PhoneRecognizer())


def test_a_short_number_is_still_found_and_the_gate_is_phonenumbers_own_minimum() -> None:
    from pii.recognizers import DigitGatedPhoneRecognizer

    assert DigitGatedPhoneRecognizer.MIN_DIGITS == 4  # national numbers of AT, DE, NU, SH … (phonenumbers metadata)
    assert DigitGatedPhoneRecognizer().analyze("Telefon: 030 901820", ["PHONE_NUMBER"])
