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

from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["Words", "read_image", "without_rules", "word_spans"]

Words = tuple[tuple[int, int, float], ...]  # per word: start and end in the page text, tesseract's confidence
_CONFIG = "--oem 1 --psm 3 -c tessedit_create_tsv=1"  # LSTM engine, automatic page segmentation; TSV too
_WORD_LEVEL = "5"  # the TSV's level column for a word (1 page, 2 block, 3 paragraph, 4 line)
_DARK = 160  # grey level under which a pixel is ink
_RULE_WIDTH = 1 / 27  # of the page's width: a horizontal ink run this long is a rule (92 px at 300 dpi on A4)
_RULE_HEIGHT = 1 / 35  # of the page's height: a vertical one (100 px at 300 dpi), taller than a 16 pt letter
_RULE_REACH = 3  # pixels either side of a rule that are whitened with it (blur, a tilted rule's steps)


def read_image(image: Image.Image, language: str, timeout: float) -> tuple[str, Words]:
    """The page's text and its words' spans and confidences, from a single tesseract run (reading twice would
    double the slowest step of a scan). Raises as pytesseract does: ``RuntimeError`` on timeout,
    ``TesseractError`` on a failed run."""
    from pytesseract.pytesseract import run_tesseract, save

    with save(without_rules(image)) as (base, source):
        run_tesseract(source, base, "txt", language, config=_CONFIG, timeout=timeout)
        text = Path(base + ".txt").read_text(encoding="utf-8")
        table = Path(base + ".tsv").read_text(encoding="utf-8")
    return text, word_spans(text, table)


def word_spans(text: str, table: str) -> Words:
    """Each word of tesseract's TSV located in ``text`` in reading order (both come from the same recognition, so
    every word is found after the previous one; one that is not is left out rather than guessed)."""
    spans = []
    cursor = 0
    for line in table.splitlines()[1:]:
        columns = line.split("\t")
        if len(columns) < 12 or columns[0] != _WORD_LEVEL or not columns[11].strip():
            continue
        start = text.find(columns[11], cursor)
        if start < 0:
            continue
        cursor = start + len(columns[11])
        spans.append((start, cursor, float(columns[10])))
    return tuple(spans)


def without_rules(image: Image.Image) -> Image.Image:
    """The page with its ruled lines painted white: a form's boxes and a table's grid make tesseract's page
    segmentation drop the text inside them (a ruled KYC grid lost nearly every value). A rule is a horizontal ink
    run of at least ``_RULE_WIDTH`` of the page, or a vertical one of ``_RULE_HEIGHT``; no letter at text sizes
    has one, so the words are untouched."""
    pixels = np.asarray(image.convert("L"))
    dark = pixels < _DARK
    rules = _widened(_long_runs(dark, max(8, round(image.width * _RULE_WIDTH))))
    rules |= _widened(_long_runs(dark.T, max(8, round(image.height * _RULE_HEIGHT)))).T
    if not rules.any():
        return image
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)


def _widened(rows: np.ndarray, reach: int = _RULE_REACH) -> np.ndarray:
    """``rows`` grown by ``reach`` pixels across (up and down): a scanned rule's blurred edges go with it."""
    grown = rows.copy()
    for step in range(1, reach + 1):
        grown[step:] |= rows[:-step]
        grown[:-step] |= rows[step:]
    return grown


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
