"""Tesseract on one rendered page: the text, and how sure tesseract was of each word in it.

One tesseract run writes both its plain text (what the rules and the model
read, as ``image_to_string`` gives it, a table row's numbers kept a column
apart: ``column_gaps``) and its TSV of words with a
confidence each (0–100). The words are located in the text by their order,
so a value read from the text can be traced to the words under it: a value
whose words tesseract itself doubted (a speckle read as a quote mark, a
pound sign read as a dollar) is a weaker reading than the same value read
cleanly, and is never auto-accepted (``extractors/model/tier.py``).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from extractors.ink import without_leaders, without_rules, without_specks

__all__ = ["AUTO", "Words", "column_gaps", "decimal_gaps", "models", "read_image", "rows", "word_spans"]

Words = tuple[tuple[int, int, float], ...]  # per word: start and end in the page text, tesseract's confidence
_CONFIG = "--oem 1 --psm 3 -c tessedit_create_tsv=1"  # LSTM engine, automatic page segmentation; TSV too
_WORD_LEVEL = "5"  # the TSV's level column for a word (1 page, 2 block, 3 paragraph, 4 line)
AUTO = "auto"  # the ocr_language setting for every installed model of _LANGUAGES (default: "eng")
_LANGUAGES = ("eng", "deu", "fra", "nld", "ita", "spa")  # Debian tesseract-ocr-LANG (scripts/system-deps.sh)
_DOUBTFUL = 50  # mean word confidence under which a page may be lying on its side or upside down
_SURE_ORIENTATION = 2.0  # tesseract's orientation confidence from which a turn is believed
_DOUBTED_WORD = 50  # a word's confidence under which a lone mark is taken for a speck (``_speckle``)
_LETTER = re.compile(r"[^\W\d_]")
_NUMBER = re.compile(r"\d")
_ROW_REACH = 0.6  # of a line's height: lines whose middles are this close stand in one row
_COLUMN_GAP = 2  # line heights: a wider gap between two words on a line separates two columns (rows, column_gaps)
# a blank OCR put beside a decimal separator ('123, 31', '1.124 ,96'), or a semicolon it read for a comma
_SPLIT_DECIMAL = re.compile(
    r"(?<=\d[.,]) (?=\d{2}(?![\d.,]))|(?<=\d) (?=[.,]\d{2}(?![\d.,]))|(?<=\d);(?=\d{2}(?![\d.,]))"
)
_CURRENCY_CODE = re.compile(r"\b[A-Z]{3}\b")  # 'EUR', 'CHF', 'IVA': capitals a line of figures may hold


def read_image(image: Image.Image, language: str, timeout: float, dpi: float) -> tuple[str, Words, str]:
    """The page's text, its words' spans and confidences, and its lines in rows by position (``rows``: the scan's
    layout view), from one tesseract run (reading twice would double the slowest step of a scan). ``language`` is
    tesseract's (``eng+deu``) or ``auto`` (``models``); ``dpi`` is the resolution the page was rendered at
    (``ink.without_specks``). A page read with little confidence may lie on its side or upside down, as pages go
    into a scanner: then tesseract's orientation detection is asked, and the page turned upright is read once
    more; the surer reading is kept. Raises as pytesseract does: ``RuntimeError`` on
    timeout, ``TesseractError`` on a failed run."""
    language = models(language)
    reading = _read(image, language, timeout, dpi)
    if reading[1] and _mean_confidence(reading[1]) < _DOUBTFUL:
        turn = _upright_turn(image, timeout)
        if turn:
            turned = _read(image.rotate(-turn, expand=True, fillcolor="white"), language, timeout, dpi)
            if _mean_confidence(turned[1]) > _mean_confidence(reading[1]):
                return turned
    return reading


def models(setting: str) -> str:
    """Tesseract's ``-l`` for the ``ocr_language`` setting: the setting itself, or for ``auto`` the models of the
    six languages documents arrive in that are installed here, English first. English alone misreads their
    accented letters (Müllerstraße as MullerstraB&e) and the captions that carry them. Not the default: the six
    models read more, but the confidence curves refitted on their readings promised 0.99 to values right 98.9 %
    of the time on unseen layouts (benchmarks/README.md, "Six OCR languages")."""
    if setting != AUTO:
        return setting
    return "+".join(code for code in _LANGUAGES if code in _installed()) or "eng"


@functools.cache
def _installed() -> frozenset[str]:
    """The language models tesseract has here (``tesseract --list-langs``), asked once per process."""
    import pytesseract

    return frozenset(pytesseract.get_languages(config=""))


def _read(image: Image.Image, language: str, timeout: float, dpi: float) -> tuple[str, Words, str]:
    """One tesseract run on the page with its dotted leaders, then its ruled lines, then its specks painted out
    (``ink``)."""
    from pytesseract.pytesseract import run_tesseract, save

    with save(without_specks(without_rules(without_leaders(image)), dpi)) as (base, source):
        run_tesseract(source, base, "txt", language, config=_CONFIG, timeout=timeout)
        text = Path(base + ".txt").read_text(encoding="utf-8")
        table = Path(base + ".tsv").read_text(encoding="utf-8")
    text = decimal_gaps(column_gaps(text, table))
    return text, word_spans(text, table), decimal_gaps(rows(table))


def _mean_confidence(words: Words) -> float:
    return sum(confidence for *_, confidence in words) / len(words) if words else 0.0


def _upright_turn(image: Image.Image, timeout: float) -> int:
    """Degrees clockwise that turn the page upright by tesseract's orientation detection (0, 90, 180 or 270); 0
    where it is unsure or cannot tell (too few letters, no ``osd`` model installed)."""
    from pytesseract import Output, TesseractError, image_to_osd

    try:
        found = image_to_osd(image, config="--psm 0", output_type=Output.DICT, timeout=timeout)
        turn, sure = int(found["rotate"]), float(found["orientation_conf"])
    except (TesseractError, KeyError, ValueError):  # a refusal, or an answer without an orientation in it
        return 0
    return turn if sure >= _SURE_ORIENTATION and turn in (90, 180, 270) else 0


def word_spans(text: str, table: str) -> Words:
    """Each word of tesseract's TSV located in ``text`` in reading order (both come from the same recognition, so
    every word is found after the previous one; one that is not is left out rather than guessed)."""
    return tuple((start, end, float(columns[10])) for start, end, columns in _located(text, table))


def column_gaps(text: str, table: str) -> str:
    """Tesseract's text with three blanks, not one, between two numbers a column gap apart on the page.

    Tesseract strings a table row's cells with single blanks, so a quantity beside its price reads '4 349,19',
    which is also how a thousand is grouped with a space: read as one amount, 4,349.19 outgrows the grand total
    and is taken for it. Three blanks, a column gap in the layout view too (``rows``), keep them two cells, where
    a line break (tried) also moved the captions and dates around them. A gap is wider than ``_COLUMN_GAP`` times
    the taller word's height (``rows`` measures it in the page's median line height). Only numbers are spaced out:
    a name or a caption keeps its words as they were."""
    located = list(_located(text, table))
    gaps = [
        end
        for (_, end, first), (start, _, second) in itertools.pairwise(located)
        if first[1:5] == second[1:5]  # the same line of tesseract's
        and text[end:start] == " "
        and _NUMBER.search(first[11])
        and _NUMBER.search(second[11])
        and int(second[6]) - int(first[6]) - int(first[8]) > _COLUMN_GAP * max(int(first[9]), int(second[9]))
    ]
    for position in reversed(gaps):
        text = text[:position] + "  " + text[position:]
    return text


def decimal_gaps(text: str) -> str:
    """Amounts OCR split at their decimal separator made whole again, on lines of figures only.

    On a scanned totals row tesseract reads '123,31' as '123, 31' or '1.124 ,96', and '1.660,53' as '1.660;53':
    no reader takes those for amounts, so the row's net + tax = grand fails and an honest scan raises
    ``TOTAL_MISMATCH``. Mended only on a line without letters (three capitals aside: 'EUR', 'IVA') and only
    where a single blank is there: on a line of words ('Flat 65, 23 Glen Valley') the blank may be meant, and a
    column gap is three blanks by then (``column_gaps``). The blank goes and ';' becomes ',', so the TSV's words
    are still found in the text in order (``word_spans``)."""
    return "\n".join(
        line if _LETTER.search(_CURRENCY_CODE.sub("", line)) else _SPLIT_DECIMAL.sub(_mend, line)
        for line in text.split("\n")
    )


def _mend(split: re.Match[str]) -> str:
    return "," if split.group() == ";" else ""


def _located(text: str, table: str) -> Iterator[tuple[int, int, list[str]]]:
    """Each TSV word's start and end in ``text``, and its columns, in reading order (see ``word_spans``)."""
    cursor = 0
    for columns in _tsv_words(table):
        start = text.find(columns[11], cursor)
        if start < 0:
            continue
        cursor = start + len(columns[11])
        yield start, cursor, columns


def _tsv_words(table: str) -> Iterator[list[str]]:
    """The columns of each word row of tesseract's TSV (level 5, with text), in reading order: 1-4 say which page,
    block, paragraph and line it is on, 6-9 where (left, top, width, height), 10 the confidence, 11 the word."""
    for line in table.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) >= 12 and columns[0] == _WORD_LEVEL and columns[11].strip():
            yield columns


_Word = tuple[int, int, int, int, str]  # left, top, width, height (pixels), text


def rows(table: str) -> str:
    """Tesseract's lines placed in rows by their height on the page, left to right: the layout view of a scan.

    Tesseract reads a page block by block, so a ruled table comes out as a column of captions and then a column of
    values; in rows each value stands beside its caption again, as ``pypdf``'s layout mode keeps a text layer's table
    rows (``PdfDocument.layout_pages``). As there, a row's first word and each word after a column gap (over twice
    the line height) stand at the character column of their place on the page, at least three blanks from the text
    before them: a header row's cells then stand over the values under them ('Total HT   TVA 20%   Net à payer'
    over '216,83   43,37   260,20 EUR'), which the caption of a value reads (``rules.meaning``). Specks tesseract
    read as a doubted mark (``_speckle``) are left out: in the gap between a caption and its value they would stand
    where the value belongs."""
    lines: dict[tuple[str, ...], list[_Word]] = {}
    for columns in _tsv_words(table):
        if _speckle(columns[11], float(columns[10])):
            continue
        left, top, width, height = (int(value) for value in columns[6:10])
        lines.setdefault(tuple(columns[1:5]), []).append((left, top, width, height, columns[11]))
    if not lines:
        return ""
    words = [word for line in lines.values() for word in line]
    units = sorted((float(np.median([t + h / 2 for _, t, _, h, _ in line])), line) for line in lines.values())
    unit = float(np.median([h for *_, h, _ in words]))
    grid = _Grid(
        margin=min(left for left, *_ in words),
        character=max(float(np.median([w / len(text) for _, _, w, _, text in words])), 1.0),
        gap=_COLUMN_GAP * unit,
    )
    grouped: list[list[_Word]] = []
    row_centre = -unit
    for centre, line in units:
        if centre - row_centre > unit * _ROW_REACH:
            grouped.append([])
            row_centre = centre
        grouped[-1].extend(line)
    return "\n".join(grid.row_text(sorted(row)) for row in grouped)


def _speckle(word: str, confidence: float) -> bool:
    """A word of no digit and at most one letter that tesseract doubted: dust on the scan ('\\', '—', 'a' at 0-40).
    A doubted lone digit stays: it may be a house number or a quantity, where a speck is rarely read as one."""
    return confidence < _DOUBTED_WORD and not any(c.isdigit() for c in word) and len(_LETTER.findall(word)) <= 1


@dataclass(frozen=True)
class _Grid:
    """Pixels to character columns on one page: the leftmost word's edge is column 0, a column is the page's median
    character width, and a gap wider than ``gap`` pixels separates two columns of text."""

    margin: int
    character: float
    gap: float

    def row_text(self, words: list[_Word]) -> str:
        """One row's words, sorted left to right, as a line of text."""
        text, right = "", None
        for left, _, width, _, word in words:
            if right is None or left - right > self.gap:
                blanks = round((left - self.margin) / self.character) - len(text)
                text += " " * (max(blanks, 0 if right is None else 3))
            else:
                text += " "
            text, right = text + word, left + width
        return text
