"""Label scans over lowered text find what case-insensitive scans find (``extractors.rules.base._lowered``).

The rules tier's label patterns are lower case and were matched with IGNORECASE, which compares every character
through its case mappings (half of the tier's time). A page is now lowered once and scanned without the flag,
unless lowering could change an offset or a character's matches; then the old scan runs. Where no label is found
as written, the labels with an accent are looked for without it, over the text without accents (OCR's English
model reads 'Échéance' as 'Echéance').
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import extractors.rules.invoice as invoice
import extractors.rules.kyc as kyc
import extractors.rules.totals as totals
from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.rules import base, extract_rules
from extractors.rules.base import LabelRecognizer

RECOGNIZERS = [
    value for module in (invoice, kyc, totals) for value in vars(module).values() if isinstance(value, LabelRecognizer)
]
# Letters of both cases (ASCII, Latin-1, Latin Extended-A), the letters whose cases cross into others (İ ı ſ µ, the
# Kelvin sign, capital sharp s, a ligature, sigma), digits, blanks and the marks labels end with.
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n.:#-/()°º€%"
    "äöüßÄÖÜéèêëÉÈÊàâçÇîïôûùÑñóúíÓÚÍłŁœŒ"
    "\u0130\u0131\u017f\u00b5\u212a\u1e9e\ufb01\u03a3\u03c3\u03c2"
)
_WORDS = [
    "Rechnungsnummer", "RECHNUNG Nr.", "Invoice No.", "INVOICE DATE", "Facture n°", "FACTURE N°", "Datum",
    "Fälligkeitsdatum", "FÄLLIGKEITSDATUM", "échéance", "ÉCHÉANCE", "Gesamtbetrag", "TOTAL TTC", "MwSt-Betrag",
    "Full name", "DATE OF BIRTH", "Nachname", "Numéro de facture", "fattura n.", "N\u00ba factura", "Summe netto",
    "Korrekturrechnung Nr. 7 vom", "\u0130nvoice", "Rechnung\u017fnummer", "TOTA\u212a",
    "Net total", "   ", "Tax (10%)",  # a column gap between two captions
]  # fmt: skip


def _scanned(recognizer: LabelRecognizer, text: str) -> list[tuple[tuple[int, int], float]]:
    return [(match.span(), weight) for match, weight in recognizer.label_matches(text)]


def _bare(text: str) -> str:
    """Lower case without accents, one character for one (an independent reading of ``base._accent_free``)."""
    return "".join(
        bare if len(bare := unicodedata.normalize("NFD", char)[0].lower()) == 1 and ord(char) < 0x250 else char
        for char in text
    )


_COLUMN_GAP = re.compile(r"\S[ \t]{3,}\S")


def _case_insensitive(recognizer: LabelRecognizer, text: str) -> list[tuple[tuple[int, int], float]]:
    """Every label scanned with IGNORECASE over the text as it is, as before; where none is found, the labels
    with an accent, stripped of it, over the text stripped of its accents. Neither across a column gap."""
    found = [
        (match.span(), weight)
        for pattern, _, weight in recognizer._compiled
        for match in pattern.finditer(text)
        if not _COLUMN_GAP.search(match.group())
    ]
    if found:
        return found
    return [
        (match.span(), weight)
        for label, weight in recognizer.labels.items()
        if not label.isascii()
        for match in re.finditer(_bare(label), _bare(text), re.MULTILINE)
        if not _COLUMN_GAP.search(match.group())
    ]


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_ALPHABET, max_size=12)), max_size=30))
def test_lowered_scans_find_what_case_insensitive_scans_find(parts: list[str]) -> None:
    text = "".join(parts)
    for recognizer in RECOGNIZERS:
        assert _scanned(recognizer, text) == _case_insensitive(recognizer, text)


def test_every_page_of_the_corpora_scans_alike(shared_data: Path) -> None:
    """Both views of every readable page of the shared PDFs, every recognizer; most pages take the lowered scan."""
    from extractors.pdf import _extract_text

    texts = []
    for path in sorted(shared_data.rglob("*.pdf")):
        try:
            plain, layout, _ = _extract_text(str(path), ExtractSettings())
        except Exception:  # unreadable on purpose (pdf-malformed): nothing to scan
            continue
        texts += [*plain, *(layout or [])]
    lowered = [text for text in texts if base._lowered(text) is not None]
    assert len(texts) > 400 and len(lowered) > 0.9 * len(texts)
    for recognizer in RECOGNIZERS:
        for text in texts:
            assert _scanned(recognizer, text) == _case_insensitive(recognizer, text)


@pytest.mark.parametrize("char", ["\u0130", "\u0131", "\u017f", "\u00b5", "\u212a", "\u1e9e", "\ufb01", "\u03a3"])
def test_a_page_with_a_letter_whose_cases_cross_is_scanned_case_insensitively(char: str) -> None:
    assert base._lowered(f"Rechnung {char} Nr. 42") is None
    assert base._lowered("Rechnung Nr. 42 — Fällig am 1.2.2026, 19 % MwSt, 100,00 €") is not None


def test_a_label_with_an_upper_case_letter_keeps_the_case_insensitive_scan() -> None:
    assert base._case_free(r"rechnung\S+\W") is not None
    assert base._case_free(r"Rechnung") is None


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Echéance: 2024-05-19", "2024-05-19"),  # tesseract's English model drops a capital's accent
        ("Fallig am\n2025-11-30", "2025-11-30"),
        ("A payer avant le\n2024-11-28", "2024-11-28"),
        ("ECHEANCE 19/05/2024", "2024-05-19"),
    ],
)
def test_a_label_whose_accents_ocr_lost_is_still_read(text: str, due: str) -> None:
    page = base.Page(1, f"Rechnung Nr. R-1\nRechnungsdatum: 01.04.2024\n{text}\n")
    assert extract_rules([page], DocKind.INVOICE)["due_date"].value == due


def test_a_label_found_as_written_takes_no_accent_free_reading() -> None:
    # 'Échéance' is printed with its accent, so the unaccented line above it is not read as a due date's label
    page = base.Page(1, "Echeance de la garantie: 2026-01-01\nÉchéance: 2024-05-19\n")
    assert extract_rules([page], DocKind.INVOICE)["due_date"].value == "2024-05-19"
