"""Analyses made ahead: while the reading children parse, the worker analyses each document's values and file name
(``PiiEngine.analyse_ahead``), and the mask and finish stages, inside ``remembering``, find them done.

The answer must be the one they would have computed, and inside the block nothing may be analysed twice.
"""

from __future__ import annotations

import pytest
from piihelpers import doc_id

from docval.domain import DocKind, ExtractedField, Tier
from pii import PiiEngine

_DOCUMENTS = [
    (
        {
            "supplier_name": "Acme Widgets GmbH z. Hd. Hans Müller",
            "supplier_address": "Hauptstraße 5, 10115 Berlin, Tel. +49 30 1234567",
            "buyer_name": "Erika Mustermann",
            "iban": "DE89370400440532013000",
            "invoice_number": "RE-2026-0042",
            "issue_date": "2026-11-05",
            "note": "Fragen an anna.schmidt@example.org oder 030 98765432",
        },
        "invoice_Erika_Mustermann_DE89370400440532013000.pdf",
    ),
    (
        {"supplier_name": "Lieferant GmbH", "currency": "EUR", "total": "1.234,56"},
        "zugferd_2p1_EXTENDED_Warenrechnung.pdf",
    ),
]


def _fields(values: dict[str, str]) -> dict[str, ExtractedField]:
    return {
        name: ExtractedField(value=value, confidence=0.99, tier=Tier.RULES, page=1) for name, value in values.items()
    }


def _masked(engine: PiiEngine, values: dict[str, str], name: str, doc: str) -> tuple[dict, dict, str]:
    masked = engine.mask_fields(_fields(values), kind=DocKind.INVOICE, doc=doc)
    return {k: v.value for k, v in masked.fields.items()}, masked.entities, engine.mask_name(name, doc=doc).text


@pytest.mark.parametrize(("values", "name"), _DOCUMENTS)
def test_masking_after_analysing_ahead_is_the_masking_without(
    engine: PiiEngine, values: dict[str, str], name: str
) -> None:
    """Same fields, same counts, same file name: each run masks for a new data subject, so pseudonyms start at 1."""
    plain = _masked(engine, values, name, doc_id(f"plain-{name}"))
    with engine.remembering():
        engine.analyse_ahead(_fields(values), DocKind.INVOICE, name)
        ahead = _masked(engine, values, name, doc_id(f"ahead-{name}"))
    assert ahead == plain
    assert "Hans Müller" not in str(ahead) and "anna.schmidt" not in str(ahead)  # the contact person is still masked


@pytest.fixture
def analyses(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts Presidio analyses from now on (the real engine, counted)."""
    made: list[str] = []
    presidio = engine.analyzer.engine.analyze

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(kwargs["text"])
        return presidio(*args, **kwargs)

    monkeypatch.setattr(engine.analyzer.engine, "analyze", counted)
    return made


@pytest.mark.parametrize(("values", "name"), _DOCUMENTS)
def test_inside_the_block_nothing_is_analysed_twice(
    engine: PiiEngine, values: dict[str, str], name: str, analyses: list[str]
) -> None:
    """After ``analyse_ahead`` the mask and finish steps make no analysis of their own; outside the block,
    nothing is remembered."""
    with engine.remembering():
        engine.analyse_ahead(_fields(values), DocKind.INVOICE, name)
        ahead = len(analyses)
        _masked(engine, values, name, doc_id(f"twice-{name}"))
        assert ahead > 0 and len(analyses) == ahead
    _masked(engine, values, name, doc_id(f"after-{name}"))
    assert len(analyses) > ahead


def test_a_remembered_answer_is_not_changed_by_its_caller(engine: PiiEngine) -> None:
    text, entities = "call +49 30 1234567 or mail a.b@example.org", ["PHONE_NUMBER", "EMAIL_ADDRESS"]
    with engine.remembering():
        first = engine.analyzer.analyze(text, entities)
        expected = list(first)
        first.clear()  # callers extend the lists they get (pii.filenames)
        assert engine.analyzer.analyze(text, entities) == expected != []


def test_outside_the_block_nothing_is_analysed_ahead(engine: PiiEngine, analyses: list[str]) -> None:
    """Nothing would keep the answers: a stage run outside ``remembering`` would pay each analysis twice."""
    values, name = _DOCUMENTS[0]
    engine.analyse_ahead(_fields(values), DocKind.INVOICE, name)
    assert analyses == []
