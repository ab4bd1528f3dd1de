"""Tesseract on one rendered page: the text, and how sure tesseract was of each word in it.

One tesseract run writes both its plain text (what the rules and the model
read, exactly as ``image_to_string`` gives it) and its TSV of words with a
confidence each (0–100). The words are located in the text by their order,
so a value read from the text can be traced to the words under it: a value
whose words tesseract itself doubted (a speckle read as a quote mark, a
pound sign read as a dollar) is a weaker reading than the same value read
cleanly, and is never auto-accepted (``extractors/model/tier.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["Words", "read_image", "rows", "without_rules", "word_spans"]

Words = tuple[tuple[int, int, float], ...]  # per word: start and end in the page text, tesseract's confidence
_CONFIG = "--oem 1 --psm 3 -c tessedit_create_tsv=1"  # LSTM engine, automatic page segmentation; TSV too
_WORD_LEVEL = "5"  # the TSV's level column for a word (1 page, 2 block, 3 paragraph, 4 line)
_DARK = 160  # grey level under which a pixel is ink
_RULE_WIDTH = 1 / 27  # of the page's width: a horizontal ink run this long is a rule (92 px at 300 dpi on A4)
_RULE_HEIGHT = 1 / 35  # of the page's height: a vertical one (100 px at 300 dpi), taller than a 16 pt letter
_ROW_REACH = 0.6  # of a line's height: lines whose middles are this close stand in one row
_RULE_REACH = 3  # pixels either side of a rule that are whitened with it (blur, a tilted rule's steps)
_RULE_THICKNESS = 1 / 250  # of the page's height: ink this thick across a run is a filled area, not a rule (14 px)


def read_image(image: Image.Image, language: str, timeout: float) -> tuple[str, Words, str]:
    """The page's text, its words' spans and confidences, and its lines in rows by position (``rows``: the scan's
    layout view), from a single tesseract run (reading twice would double the slowest step of a scan). Raises as
    pytesseract does: ``RuntimeError`` on timeout, ``TesseractError`` on a failed run."""
    from pytesseract.pytesseract import run_tesseract, save

    with save(without_rules(image)) as (base, source):
        run_tesseract(source, base, "txt", language, config=_CONFIG, timeout=timeout)
        text = Path(base + ".txt").read_text(encoding="utf-8")
        table = Path(base + ".tsv").read_text(encoding="utf-8")
    return text, word_spans(text, table), rows(table)


def word_spans(text: str, table: str) -> Words:
    """Each word of tesseract's TSV located in ``text`` in reading order (both come from the same recognition, so
    every word is found after the previous one; one that is not is left out rather than guessed)."""
    spans = []
    cursor = 0
    for columns in _tsv_words(table):
        start = text.find(columns[11], cursor)
        if start < 0:
            continue
        cursor = start + len(columns[11])
        spans.append((start, cursor, float(columns[10])))
    return tuple(spans)


def _tsv_words(table: str) -> Iterator[list[str]]:
    """The columns of each word row of tesseract's TSV (level 5, with text), in reading order: 1-4 say which page,
    block, paragraph and line it is on, 6-9 where (left, top, width, height), 10 the confidence, 11 the word."""
    for line in table.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) >= 12 and columns[0] == _WORD_LEVEL and columns[11].strip():
            yield columns


def rows(table: str) -> str:
    """Tesseract's lines placed in rows by their height on the page, left to right, a column gap (over twice the
    line height) kept as three blanks: the layout view of a scan. Tesseract reads a page block by block, so a
    ruled table comes out as a column of captions and then a column of values; in rows each value stands beside
    its caption again, as ``pypdf``'s layout mode keeps a text layer's table rows (``PdfDocument.layout_pages``)."""
    lines: dict[tuple[str, ...], list[tuple[int, int, int, int, str]]] = {}
    for columns in _tsv_words(table):
        left, top, width, height = (int(value) for value in columns[6:10])
        lines.setdefault(tuple(columns[1:5]), []).append((left, top, width, height, columns[11]))
    if not lines:
        return ""
    units = sorted((float(np.median([t + h / 2 for _, t, _, h, _ in words])), words) for words in lines.values())
    unit = float(np.median([h for words in lines.values() for *_, h, _ in words]))
    grouped: list[list[tuple[int, int, int, int, str]]] = []
    row_centre = -unit
    for centre, words in units:
        if centre - row_centre > unit * _ROW_REACH:
            grouped.append([])
            row_centre = centre
        grouped[-1].extend(words)
    return "\n".join(_row_text(sorted(words), unit) for words in grouped)


def _row_text(words: list[tuple[int, int, int, int, str]], unit: float) -> str:
    """One row's words (left, top, width, height, text), sorted left to right, as a line of text."""
    text, right = "", None
    for left, _, width, _, word in words:
        if right is not None:
            text += "   " if left - right > 2 * unit else " "
        text, right = text + word, left + width
    return text


def without_rules(image: Image.Image) -> Image.Image:
    """The page with its ruled lines painted white: a form's boxes and a table's grid make tesseract's page
    segmentation drop the text inside them (a ruled KYC grid lost nearly every value). A rule is a horizontal ink
    run of at least ``_RULE_WIDTH`` of the page, or a vertical one of ``_RULE_HEIGHT``; no letter at text sizes
    has one, so the words are untouched. A rule is also thin: a dark banner or a filled table header has long runs
    too, and whitening it would erase the white captions printed on it."""
    pixels = np.asarray(image.convert("L"))
    dark = pixels < _DARK
    rules = _widened(_long_runs(dark, max(8, round(image.width * _RULE_WIDTH))))
    rules |= _widened(_long_runs(dark.T, max(8, round(image.height * _RULE_HEIGHT)))).T
    if rules.any():
        rules &= ~_filled(dark, max(3, round(image.height * _RULE_THICKNESS)))
    if not rules.any():
        return image
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)


def _widened(mask: np.ndarray, reach: int = _RULE_REACH) -> np.ndarray:
    """``mask`` grown by ``reach`` pixels across its rows (up and down): a scanned rule's blurred edges go with it."""
    grown = mask.copy()
    for step in range(1, reach + 1):
        grown[step:] |= mask[:-step]
        grown[:-step] |= mask[step:]
    return grown


def _filled(dark: np.ndarray, size: int) -> np.ndarray:
    """Filled areas of ``dark`` and a margin of ``size`` around them: every pixel near a ``size`` × ``size`` square
    of solid ink. The gaps between a banner's white letters are long, narrow ink runs, and no rule. Found at half
    resolution, a quarter of the work: a margin needs no exact edge."""
    half = dark[::2, ::2]
    core = size // 2 | 1
    near = _box_counts(_box_counts(half, core) == core * core, 3 * core) > 0
    return near.repeat(2, axis=0).repeat(2, axis=1)[: dark.shape[0], : dark.shape[1]]


def _box_counts(mask: np.ndarray, size: int) -> np.ndarray:
    """Per pixel, how many pixels of ``mask`` lie in the ``size`` × ``size`` square centred on it (``size`` odd)."""
    half = size // 2
    padded = np.pad(mask, half + 1).astype(np.int32).cumsum(0).cumsum(1)  # a summed-area table, a zero row first
    rows, columns = mask.shape
    return (
        padded[size : size + rows, size : size + columns]
        - padded[:rows, size : size + columns]
        - padded[size : size + rows, :columns]
        + padded[:rows, :columns]
    )


def _long_runs(dark: np.ndarray, length: int) -> np.ndarray:
    """Per row of ``dark``, the pixels inside a run of at least ``length`` consecutive true ones."""
    rows, columns = dark.shape
    padded = np.zeros((rows, columns + 2), dtype=np.int8)  # a blank column each side: no run spans two rows
    padded[:, 1:-1] = dark
    change = np.diff(padded.ravel())
    starts, ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)  # run = flat[start + 1 .. end]
    long = ends - starts >= length
    delta = np.zeros(padded.size + 1, dtype=np.int32)  # +1 where a long run starts, -1 after it: cumsum marks it
    delta[starts[long] + 1] = 1  # no two runs share a start or an end, and a run ends before the next one starts
    delta[ends[long] + 1] = -1
    return np.cumsum(delta)[:-1].astype(bool).reshape(padded.shape)[:, 1:-1]
