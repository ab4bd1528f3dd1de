"""Masking text and fields: consistent tokens in reading order, operators, and what a remote model sees."""

from __future__ import annotations

import json
from pathlib import Path

from piihelpers import doc_id

from docval.domain import DocKind, ExtractedField, Tier
from docval.hashing import KeyedHasher
from pii import Operator, PiiEngine, load_config
from pii.config import NerConfig
from pii.evaluate import load_samples

TEXT = (
    "Name: Mary Jones\n"
    "Mary Jones paid 2226 6638 3615 1711 for john.smith@example.com.\n"
    "Name: John Smith\n"
    "John Smith's colleague Mary Jones wrote to mary@corp.example again."
)


def test_pseudonyms_are_numbered_in_reading_order_and_reused(patterns_engine: PiiEngine) -> None:
    masked = patterns_engine.mask_text(TEXT)
    assert masked.text == (
        "Name: <PERSON_1>\n"
        "<PERSON_1> paid <CREDIT_CARD_1> for <EMAIL_ADDRESS_1>.\n"
        "Name: <PERSON_2>\n"
        "<PERSON_2>'s colleague <PERSON_1> wrote to <EMAIL_ADDRESS_2> again."
    )
    assert masked.originals["<PERSON_2>"] == "John Smith"
    assert masked.reidentify(masked.text) == TEXT


def test_remote_model_never_sees_a_pattern_original(engine: PiiEngine, shared_data: Path) -> None:
    """What the extractor's remote tier sends: none of the corpus' e-mails, IBANs, cards, phones, SSNs survive."""
    mask = engine.mask_function(DocKind.OTHER)
    wanted = {"EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "PHONE_NUMBER", "US_SSN", "IP_ADDRESS"}
    samples = load_samples(shared_data / "pii-presidio-research" / "all_samples.jsonl", limit=400)
    leaks, checked = [], 0
    for text, gold in samples:
        sent = mask(text)
        for span in gold:
            if span.entity in wanted:
                checked += 1
                if text[span.start : span.end] in sent.text:
                    leaks.append(span.entity)
        assert sent.reidentify(sent.text) == text
    assert checked > 70
    assert leaks == []


def test_operators_per_entity_type(tmp_path: Path) -> None:
    config = load_config().model_copy(
        update={
            "ner": NerConfig(model=None),
            "operators": {
                "CREDIT_CARD": Operator.MASK,
                "EMAIL_ADDRESS": Operator.KEYED_HASH,
                "US_SSN": Operator.REDACT,
            },
        }
    )
    engine = PiiEngine(config, KeyedHasher(b"k" * 32))
    text = "Card 4111 1111 1111 1111, mail a.b@example.com, SSN 536-22-8726, again a.b@example.com"
    masked = engine.mask_text(text)
    card, rest = masked.text.split(", mail ")
    assert card == "Card ***************1111"
    mail, ssn, again = rest.split(", ")
    assert mail.startswith("<EMAIL_ADDRESS#") and again == f"again {mail}"  # keyed hash: deterministic
    assert ssn == "SSN <US_SSN>"
    assert masked.originals == {}  # nothing reversible was produced
    assert engine.mask_text(masked.text).text == masked.text


def test_fields_are_pseudonymized_and_counted(engine: PiiEngine) -> None:
    doc = doc_id("fields")
    fields = {
        "full_name": ExtractedField(value="Ana Souza", confidence=0.9, tier=Tier.RULES, page=1),
        "email": ExtractedField(value="ana@example.org", confidence=0.9, tier=Tier.RULES),
        "iban": ExtractedField(value="DE89 3704 0044 0532 0130 00", confidence=0.99, tier=Tier.RULES),
        "date_of_birth": ExtractedField(value="1985-04-03", confidence=0.9, tier=Tier.RULES),
        "address": ExtractedField(value=None, confidence=0.0, tier=Tier.RULES),
    }
    result = engine.mask_fields(fields, kind=DocKind.KYC_FORM, doc=doc, subject="customer-17")
    values = {name: field.value for name, field in result.fields.items()}
    assert values == {
        "full_name": "<PERSON_1>",
        "email": "<EMAIL_ADDRESS_1>",
        "iban": "<IBAN_CODE_1>",
        "date_of_birth": "<DATE_OF_BIRTH_1>",
        "address": None,
    }
    assert result.fields["full_name"].page == 1
    assert result.entities == {"PERSON": 1, "EMAIL_ADDRESS": 1, "IBAN_CODE": 1, "DATE_OF_BIRTH": 1}
    assert result.subjects == [engine.vault.subject_ref("customer-17")]
    event = json.loads(result.event().model_dump_json())
    assert "Ana" not in json.dumps(event) and event["subjects"] == result.subjects


def test_invoice_fields_keep_business_values(engine: PiiEngine) -> None:
    fields = {
        "invoice_number": ExtractedField(value="INV-2024-0017", confidence=1, tier=Tier.RULES),
        "seller_name": ExtractedField(value="Acme Widgets GmbH", confidence=1, tier=Tier.RULES),
        "grand_total": ExtractedField(value="1190.00", confidence=1, tier=Tier.RULES),
        "buyer_name": ExtractedField(value="Jane Public", confidence=1, tier=Tier.RULES),
    }
    result = engine.mask_fields(fields, kind=DocKind.INVOICE, doc=doc_id("invoice-fields"))
    assert {name: f.value for name, f in result.fields.items()} == {
        "invoice_number": "INV-2024-0017",
        "seller_name": "Acme Widgets GmbH",
        "grand_total": "1190.00",
        "buyer_name": "<PERSON_1>",
    }


def test_a_subject_keeps_its_pseudonyms_across_documents(patterns_engine: PiiEngine) -> None:
    engine = patterns_engine
    first = engine.mask_text("Name: Ana Souza, mail ana@example.org", doc=doc_id("s1"), subject="cust-9")
    second = engine.mask_text(
        "Mail from ana@example.org.\nName: Bo Li. Ana Souza replied.", doc=doc_id("s2"), subject="cust-9"
    )
    assert first.text == "Name: <PERSON_1>, mail <EMAIL_ADDRESS_1>"
    # Ana is still <PERSON_1> (known from the vault, found again without a label); Bo Li gets the next number.
    assert second.text == "Mail from <EMAIL_ADDRESS_1>.\nName: <PERSON_2>. <PERSON_1> replied."
    other = engine.mask_text("Name: Bo Li", doc=doc_id("s3"), subject="cust-10")
    assert other.text == "Name: <PERSON_1>"
