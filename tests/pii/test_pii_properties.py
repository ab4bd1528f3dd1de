"""Invariants over generated documents: idempotent masking, consistent pseudonyms, exact unmasking."""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from piihelpers import doc_id

from pii import PiiEngine
from pii.tokens import TOKEN_RE

NAMES = ["Ana Souza", "Bo Li", "Émile Zola", "Jane Q. Public", "Ngozi Okafor", "Søren Kierkegaard"]
EMAILS = ["ana@example.org", "bo.li@corp.internal", "x_y+z@mail.example.co.uk"]
IBANS = ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "gb42nawi04454264788619"]
CARDS = ["4111 1111 1111 1111", "2226663836151711", "5555-5555-5555-4444"]
PHONES = ["+1 212-555-0198", "+44 20 7946 0958"]
FILLER = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from([" ", "\n", "\t"]),
    max_size=30,
)

piece = st.one_of(
    st.sampled_from(NAMES).map(lambda n: f"\nName: {n}\n"),
    st.sampled_from(NAMES).map(lambda n: f" {n} "),
    st.sampled_from(EMAILS).map(lambda e: f" mail {e} "),
    st.sampled_from(IBANS).map(lambda i: f" IBAN {i} "),
    st.sampled_from(CARDS).map(lambda c: f" card {c} "),
    st.sampled_from(PHONES).map(lambda p: f" phone {p} "),
    FILLER,
)
documents = st.lists(piece, min_size=1, max_size=12).map("".join)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
counter = itertools.count()


@SETTINGS
@given(text=documents)
def test_masking_is_idempotent(patterns_engine: PiiEngine, text: str) -> None:
    """Patterns and labels only: a statistical NER model may tag differently once its context is masked."""
    once = patterns_engine.mask_text(text).text
    assert patterns_engine.mask_text(once).text == once


@SETTINGS
@given(text=documents)
def test_pseudonyms_are_consistent(engine: PiiEngine, text: str) -> None:
    masked = engine.mask_text(text)
    originals = masked.originals
    assert set(originals) == {m.group(0) for m in TOKEN_RE.finditer(masked.text)}
    assert len(set(originals.values())) == len(originals)  # one token per value, one value per token
    for value in originals.values():  # every free-standing occurrence of a masked value got its token
        assert re.search(rf"(?<!\w){re.escape(value)}(?!\w)", masked.text) is None
    assert engine.mask_text(text) == masked  # deterministic


@SETTINGS
@given(text=documents)
def test_unmask_returns_the_original_for_an_authorised_user(engine: PiiEngine, text: str) -> None:
    doc = doc_id(f"property-{next(counter)}")
    masked = engine.mask_text(text, doc=doc)
    assert masked.reidentify(masked.text) == text
    revealed = engine.vault.reveal_text(doc, masked.text, user="carol", roles={"pii_reader"})
    assert revealed.value == text
