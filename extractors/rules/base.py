"""The building blocks of the rules tier: pages, candidates and label-anchored recognizers.

A recognizer looks for a label ("Rechnungsnummer", "Invoice No", "Facture n°")
and then for a value of the right shape in the places layouts put it: after
the label on the same line, on the next line, or glued in front of the label
(pypdf emits right-aligned table cells before their caption). Where it found
the value sets the confidence, so the router knows which answers to escalate.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from docval.domain import ExtractedField, Tier

__all__ = ["Candidate", "LabelRecognizer", "Page", "PageLike", "best", "to_field", "writes_month_first"]

# Where the value sat relative to its label, and how much that placement is worth.
SAME_LINE = 0.92
NEXT_LINE = 0.8
BEFORE_LABEL = 0.75
_COLUMN_SLACK = 2
_EARLIER_ON_LINE = 0.85
_BOX_MARKS = " \t|[]_"  # before a value that starts its line: blanks, and OCR's reading of a box's left edge
_SEPARATOR = re.compile(r"[ \t:.#°º№=|*)]*")  # no '-': it may be a minus sign; ')' closes "(IBAN)"
_COLUMN_GAP = re.compile(r"\S[ \t]{3,}\S")  # three blanks between words: two columns, not one caption


class PageLike(Protocol):
    """What the rules tier needs of a page: ``extractors.pdf.PageText`` has both attributes."""

    number: int
    text: str


@dataclass(frozen=True)
class Page:
    """A page built from plain text (tests, .txt inputs)."""

    number: int
    text: str


@dataclass(frozen=True, order=True)
class Candidate:
    """One possible value of a field; ``value`` is already normalised and JSON-ready."""

    confidence: float
    value: str = field(compare=False)
    page: int = field(compare=False)
    span: tuple[int, int] = field(compare=False)


def to_field(candidate: Candidate) -> ExtractedField:
    return ExtractedField(
        value=candidate.value,
        confidence=round(min(candidate.confidence, 1.0), 3),
        tier=Tier.RULES,
        page=candidate.page,
        span=candidate.span,
    )


def best(candidates: Sequence[Candidate], *, prefer_last: bool = False) -> Candidate | None:
    """The most confident candidate; among equals the first (or last: totals sit at the bottom)."""
    if not candidates:
        return None
    ordered = list(reversed(candidates)) if prefer_last else list(candidates)
    return max(ordered, key=lambda c: c.confidence)


def _case_plain(char: str) -> bool:
    """IGNORECASE matches ``char`` exactly as its lowercase: ASCII, uncased, or a Latin-1 or Latin Extended-A letter
    whose cases pair one to one (not İ and ı, whose cases cross into other letters; µ and ſ lie outside the range)."""
    return (
        char.isascii() or ("\u00c0" <= char <= "\u017e" and char not in "\u0130\u0131") or char.lower() == char.upper()
    )


@functools.lru_cache(maxsize=16)  # a document's pages, scanned by every recognizer in turn
def _lowered(text: str) -> str | None:
    """``text`` lowered for the case-free label scan, or None where that scan could match differently.

    Python's IGNORECASE compares each character through its case mappings: the label scans were half of the rules
    tier's time. The same lower-case patterns without the flag, over the page lowered once, find the same matches at
    the same offsets wherever lowering keeps every offset and every character is ``_case_plain``
    (tests/extractors/test_rules_labels.py checks both, on the corpora and on drawn text)."""
    lowered = text.lower()
    if len(lowered) != len(text) or not all(map(_case_plain, set(text))):
        return None
    return lowered


def _accent_free_char(char: str) -> str:
    """``char`` lower case without its accents (``É`` -> ``e``), where that is one character; else ``char``."""
    bare = unicodedata.normalize("NFD", char)[0].lower()
    return bare if len(bare) == 1 else char


# Upper-case ASCII and the accented letters of Latin-1 and Latin Extended-A/B: what OCR's English model drops or
# keeps of an accent ('Echéance', 'Fallig am', 'A payer avant le'), so a scan's labels and the patterns meet.
_ACCENT_FREE = {code: _accent_free_char(chr(code)) for code in (*range(0x41, 0x5B), *range(0xC0, 0x250))}


@functools.lru_cache(maxsize=16)
def _accent_free(text: str) -> str:
    """``text`` lowered and stripped of accents, character for character: every offset stays where it was."""
    return text.translate(_ACCENT_FREE)


def _accent_free_label(label: str) -> re.Pattern[str] | None:
    """``label`` for accent-free text, where it names a letter with an accent (the others match as they are)."""
    if label.isascii():
        return None
    return re.compile("".join(_accent_free_char(char) if not char.isascii() else char for char in label), re.MULTILINE)


def _case_free(label: str) -> re.Pattern[str] | None:
    """``label`` for lowered text, if it holds no upper-case letter outside its escapes (``\\S``, ``\\W``, ...)."""
    if any(char.isupper() for char in re.sub(r"\\.", "", label)):
        return None
    return re.compile(label, re.MULTILINE)


@dataclass(frozen=True)
class LabelRecognizer:
    """Finds ``value`` near any of ``labels``; ``labels`` maps a label regex to how much that label is trusted."""

    field_name: str
    labels: dict[str, float]
    value: str
    normalize: Callable[[str], str | None]
    prefer_last: bool = False
    allow_before: bool = True
    last_on_line: bool = False
    rows_below: int = 2
    # each label: (its pattern, the same for lowered text or None, its weight)
    _compiled: list[tuple[re.Pattern[str], re.Pattern[str] | None, float]] = field(
        init=False, repr=False, compare=False
    )
    _value: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # the labels that name an accented letter, for text without accents, and their weights
    _accent_free: list[tuple[re.Pattern[str], float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = [
            (re.compile(label, re.IGNORECASE | re.MULTILINE), _case_free(label), weight)
            for label, weight in self.labels.items()
        ]
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_value", re.compile(self.value, re.IGNORECASE))
        accent_free = [
            (pattern, weight) for label, weight in self.labels.items() if (pattern := _accent_free_label(label))
        ]
        object.__setattr__(self, "_accent_free", accent_free)

    def label_matches(self, text: str) -> Iterator[tuple[re.Match[str], float]]:
        """Each label's matches in ``text`` with the label's weight, by the lowered scan wherever it is exact.

        Where no label is found as written, the labels that carry an accent are looked for without it: OCR's
        English model reads 'Échéance' as 'Echéance' and 'Fällig am' as 'Fallig am'.

        A label never spans a column gap: in a header row 'Net total      Tax (10%)' the words 'total' and 'Tax'
        are two columns' captions, not the label 'total tax'."""
        lowered = _lowered(text)
        found = False
        for pattern, case_free, weight in self._compiled:
            scan = pattern.finditer(text) if lowered is None or case_free is None else case_free.finditer(lowered)
            for match in scan:
                if not _COLUMN_GAP.search(match.group()):
                    found = True
                    yield match, weight
        if not found and self._accent_free:
            bare = _accent_free(text)
            for pattern, weight in self._accent_free:
                for match in pattern.finditer(bare):
                    if not _COLUMN_GAP.search(match.group()):
                        yield match, weight

    def candidates(self, pages: Sequence[PageLike]) -> list[Candidate]:
        found: list[Candidate] = []
        for page in pages:
            for match, weight in self.label_matches(page.text):
                found.extend(self._around(page, match, weight))
        found.sort(key=lambda c: (c.page, c.span[0]))
        return found

    def find(self, pages: Sequence[PageLike]) -> Candidate | None:
        return best(self.candidates(pages), prefer_last=self.prefer_last)

    def _around(self, page: PageLike, label: re.Match[str], weight: float) -> list[Candidate]:
        text = page.text
        results: list[Candidate] = []
        line_start = text.rfind("\n", 0, label.start()) + 1
        line_end = text.find("\n", label.end())
        line_end = len(text) if line_end < 0 else line_end
        start = _SEPARATOR.match(text, label.end()).end()
        hits = self._same_line(text, start, line_end)
        for index, hit in enumerate(hits):
            # Several values on one line: the last is the likeliest (base before amount), the others stay
            # available to the totals reconciliation ('Steuerbetrag in GBP 163,16 EUR 183,14').
            factor = 1.0 if index == len(hits) - 1 else _EARLIER_ON_LINE
            results.extend(self._from_span(page, _trimmed(hit), SAME_LINE * weight * factor))
        before = text[line_start : label.start()]
        if self.allow_before and not results and (hit := re.search(f"(?:{self.value})\\s*$", before, re.IGNORECASE)):
            span = (line_start + hit.start(), line_start + hit.start() + len(hit.group(0).rstrip()))
            results.extend(self._from_span(page, span, BEFORE_LABEL * weight))
        if results:
            return results
        below = _next_lines(text, line_end, count=self.rows_below)
        if not text[line_start : label.start()].strip() and not text[start:line_end].strip():
            # The label is alone on its line: the value is the next line's first token.
            for offset, line in below[:2]:
                first = offset + len(line) - len(line.lstrip(_BOX_MARKS))
                if hit := self._value.match(text, first, offset + len(line)):
                    return self._from_span(page, _trimmed(hit), NEXT_LINE * weight)
            return []
        # The label is a column header: values sit below it, overlapping its columns. Where several values of one
        # line touch them, the columns are not kept (plain text of a header row: 'Leverdatum Besteldatum
        # Vervaldatum' over '23/04/2024 23/04/2024 12/06/2024'): each is a weaker reading, so the layout view's,
        # which keeps the columns apart, is preferred (``merge_views``).
        left, right = label.start() - line_start - _COLUMN_SLACK, label.end() - line_start + _COLUMN_SLACK
        for offset, line in below:
            hits = [
                hit
                for hit in self._value.finditer(text, offset, offset + len(line))
                if hit.start() - offset < right and hit.end() - offset > left
            ]
            confidence = NEXT_LINE * weight * (_EARLIER_ON_LINE if len(hits) > 1 else 1.0)
            for hit in hits:
                results.extend(self._from_span(page, _trimmed(hit), confidence))
        return results

    def _same_line(self, text: str, start: int, end: int) -> list[re.Match[str]]:
        """The value right after the label; for ``last_on_line`` every value on the line (tables print
        the base before the amount: 'USt. 19% 198,00 37,62')."""
        if not self.last_on_line:
            hit = self._value.match(text, start, end)
            return [hit] if hit else []
        return list(self._value.finditer(text, start, end))

    def _from_span(self, page: PageLike, span: tuple[int, int], confidence: float) -> list[Candidate]:
        raw = page.text[span[0] : span[1]]
        value = self.normalize(raw)
        if value is None:
            return []
        return [Candidate(confidence=confidence, value=value, page=page.number, span=span)]


def _trimmed(hit: re.Match[str]) -> tuple[int, int]:
    """The match's span without trailing blanks, so spans point at the value only."""
    return hit.start(), hit.start() + len(hit.group(0).rstrip())


def _next_lines(text: str, position: int, *, count: int) -> list[tuple[int, str]]:
    """Up to ``count`` non-blank lines after ``position`` (a newline), with their start offsets."""
    lines: list[tuple[int, str]] = []
    offset = position + 1
    while offset < len(text) and len(lines) < count:
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        if text[offset:end].strip():
            lines.append((offset, text[offset:end]))
        offset = end + 1
    return lines


_SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/\d{4}(?!\d)")


def writes_month_first(pages: Sequence[PageLike]) -> bool:
    """US-style dates (11/17/2017) anywhere and no day-first ones (17/11/2017): read 11/03/2017 as Nov 3."""
    pairs = [(int(a), int(b)) for page in pages for a, b in _SLASH_DATE.findall(page.text)]
    return any(b > 12 >= a for a, b in pairs) and not any(a > 12 >= b for a, b in pairs)
