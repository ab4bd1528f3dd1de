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

from PIL import Image

__all__ = ["Words", "read_image", "word_spans"]

Words = tuple[tuple[int, int, float], ...]  # per word: start and end in the page text, tesseract's confidence
_CONFIG = "--oem 1 --psm 3 -c tessedit_create_tsv=1"  # LSTM engine, automatic page segmentation; TSV too
_WORD_LEVEL = "5"  # the TSV's level column for a word (1 page, 2 block, 3 paragraph, 4 line)


def read_image(image: Image.Image, language: str, timeout: float) -> tuple[str, Words]:
    """The page's text and its words' spans and confidences, from a single tesseract run (reading twice would
    double the slowest step of a scan). Raises as pytesseract does: ``RuntimeError`` on timeout,
    ``TesseractError`` on a failed run."""
    from pytesseract.pytesseract import run_tesseract, save

    with save(image) as (base, source):
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
