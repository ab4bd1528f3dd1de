"""File names keep what is not personal: ``kyc-016.pdf`` stays, ``kyc_Anna_Schmidt.pdf`` is ``kyc_<PERSON_1>.pdf``.

Masked as running text, the NER model read a whole name such as ``kyc-016.pdf`` as one person, so KYC forms
reached the outbox, ``docval pending``, the queue and the report as ``<PERSON_2>``, while ``Anna_Schmidt``
(one token) went through in clear.
"""

from __future__ import annotations

import pytest
from piihelpers import doc_id

from docval.domain import DocKind, ExtractedField, Tier
from pii import PiiEngine
from pii.filenames import as_words


@pytest.mark.parametrize(
    "name",
    ["kyc-016.pdf", "kyc-012-bad-iban.pdf", "kyc-013-missing-dob.pdf", "invoice-001.pdf", "Scan_2026-11-05_0001.pdf"],
)
def test_a_name_without_personal_data_is_kept(engine: PiiEngine, name: str) -> None:
    assert engine.mask_name(name).text == name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("kyc_Anna_Schmidt_DE89370400440532013000.pdf", "kyc_<PERSON_1>_<IBAN_CODE_1>.pdf"),
        ("onboarding_maria.garcia_+491701234567.pdf", "onboarding_<PERSON_1>_<PHONE_NUMBER_1>.pdf"),
        ("kyc-Sarah-Connor-1985-03-02.pdf", "kyc-<PERSON_1>-1985-03-02.pdf"),
        ("Peter Parker passport.pdf", "<PERSON_1> passport.pdf"),  # the model finds "Peter"; "Parker" is taken in
        ("statement_Hans-Peter_Müller_2026.pdf", "statement_<PERSON_1>_2026.pdf"),
    ],
)
def test_only_the_personal_parts_are_masked(engine: PiiEngine, name: str, masked: str) -> None:
    result = engine.mask_name(name)
    assert result.text == masked
    assert all(original in name or original in as_words(name) for original in result.originals.values())


def test_the_subject_of_a_form_has_the_same_pseudonym_in_its_file_name(engine: PiiEngine) -> None:
    """The vault knows the form's person (from its fields): the name's ``Ines_Delacroix`` is that ``<PERSON_n>``."""
    doc = doc_id("filename-subject")
    fields = {"full_name": ExtractedField(value="Ines Delacroix", confidence=0.99, tier=Tier.RULES, page=1)}
    token = engine.mask_fields(fields, kind=DocKind.KYC_FORM, doc=doc).fields["full_name"].value
    assert engine.mask_name("kyc_Ines_Delacroix.pdf", doc=doc).text == f"kyc_{token}.pdf"


def test_small_benchmark_on_generated_names(engine: PiiEngine, load_benchmark) -> None:  # type: ignore[no-untyped-def]
    """A small run of benchmarks/source_names_bench.py (so it cannot rot): by parts leaks less and keeps more."""
    bench = load_benchmark("source_names_bench")
    names = bench.generate(60, seed=5, locales=("es_ES", "nl_NL"))
    before = bench.score(lambda name: engine.mask_text(name).text, names)
    after = bench.score(lambda name: engine.mask_name(name).text, names)
    assert after["personal names leaking"] < before["personal names leaking"]
    assert after["plain names unchanged"] > before["plain names unchanged"]
