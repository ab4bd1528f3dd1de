"""The layout view comes from the ingest pass itself: the same text a separate layout-mode pass over the file gives.

Ingest reads plain text and layout view from one parsed file in one sandbox call (it used to re-open and re-parse
the file in a second call when the rules asked); the rules' accuracy on real PDFs rests on that view being pypdf's
layout mode exactly.
"""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from docval.settings import ExtractSettings
from extractors.glyphs import valid_unicode
from extractors.pdf import _FALLBACK_SPACE_WIDTH, load_pdf

LIMITS = ExtractSettings(ocr_enabled=False)
EINFACH = "zugferd/pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf"


@pytest.mark.parametrize(
    "name",
    [
        EINFACH,
        "zugferd/pdfs/ZUGFeRDv1/correct/Mustangproject/MustangGnuaccountingBeispielRE-20140703_502.pdf",
    ],
)
def test_layout_view_matches_pypdf_layout_mode_on_a_real_pdf(shared_data: Path, name: str) -> None:
    path = shared_data / name
    document = load_pdf(path, LIMITS)
    layout = document.layout_pages()
    assert layout is not None
    expected = [page.extract_text(extraction_mode="layout") for page in pypdf.PdfReader(path).pages]
    assert [page.text for page in layout] == expected
    assert [page.number for page in layout] == [page.number for page in document.pages]
    assert layout[0].text != document.pages[0].text  # a view of its own, not the plain text again


def test_layout_view_is_not_offered_for_replaced_pages(shared_data: Path) -> None:
    document = load_pdf(shared_data / EINFACH, LIMITS)
    other = document.model_copy(update={"pages": [document.pages[0].model_copy(update={"text": "Invoice 1"})]})
    assert other.layout_pages() is None  # another text must never be read with the original file's layout


def test_both_readings_are_pypdfs_own_on_every_shared_zugferd_pdf(shared_data: Path) -> None:
    """Ingest tokenises each page's content stream once for both readings (``extractors/pypdf_pass.py``): the plain
    text and the layout view must still be exactly what two separate pypdf calls give."""
    paths = sorted((shared_data / "zugferd" / "pdfs").rglob("*.pdf"))
    assert len(paths) > 40
    for path in paths:
        document = load_pdf(path, LIMITS)
        reader = pypdf.PdfReader(path)
        plain = [valid_unicode(page.extract_text(space_width=_FALLBACK_SPACE_WIDTH)) for page in reader.pages]
        layout = [valid_unicode(page.extract_text(extraction_mode="layout")) for page in reader.pages]
        assert [page.text for page in document.pages] == plain, path.name
        view = document.layout_pages()
        assert view is not None and [page.text for page in view] == layout, path.name
