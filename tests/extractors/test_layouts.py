"""The layout generator: reproducible from its seed, varied, and every truth value really printed."""

from __future__ import annotations

import io
from collections import Counter

import pypdf
from stdnum.eu import vat as eu_vat

from extractors.layouts import DEFECTS, LANGUAGES, generate
from extractors.printed import is_printed


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_same_seed_same_documents_other_seed_others() -> None:
    first, again, other = generate(5, 4), generate(5, 4), generate(6, 4)
    assert [d.pdf for d in first] == [d.pdf for d in again]
    assert [d.truth for d in first] == [d.truth for d in again]
    assert [d.pdf for d in first] != [d.pdf for d in other]


def test_truth_is_printed_and_layouts_vary() -> None:
    docs = generate(11, 24)
    assert len({d.layout for d in docs}) >= 7 and set(LANGUAGES) == {d.language for d in docs}
    assert any(len(pypdf.PdfReader(io.BytesIO(d.pdf)).pages) > 1 for d in docs)  # totals on a later page
    assert any(str(d.truth["grand_total"]).startswith("-") for d in docs)  # credit notes
    for doc in docs:
        text = _text(doc.pdf)
        for name, value in doc.truth.items():
            if value is not None and name not in ("seller_name", "buyer_name", "seller_address", "tax_rate"):
                assert is_printed(name, value, text), (doc.name, name)


def test_defects_are_drawn_with_their_finding() -> None:
    docs = generate(3, 60, layouts=(7, 8), defective=0.5, small=True)
    defects = Counter(d.defect for d in docs if d.defect)
    assert set(defects) == set(DEFECTS)
    assert all(d.findings == [DEFECTS[d.defect]] for d in docs if d.defect)
    assert all(abs(float(d.truth["grand_total"] or 0)) < 5000 for d in docs)
    assert all(d.truth["seller_vat_id"] is None for d in docs if d.defect == "missing_vat_id")


def test_a_broken_vat_id_is_invalid_in_every_language() -> None:
    """A Dutch id's last digit is its ``B01`` suffix, outside the checksum: breaking that left a valid id."""
    docs = [d for d in generate(7, 300, layouts=(7, 8), defective=0.5, small=True) if d.defect == "bad_vat_id"]
    countries = {str(d.truth["seller_vat_id"])[:2] for d in docs}
    assert "NL" in countries and len(countries) >= 3
    assert not any(eu_vat.is_valid(str(d.truth["seller_vat_id"])) for d in docs)
