"""Where personal data sits in a file name, so only those parts are masked: ``kyc-<PERSON_1>.pdf``.

A file name is not running text. Its words are joined by ``-``, ``_`` and
``.``, so the NER model reads ``kyc-016.pdf`` as one token and tags the whole
name as a person (``<PERSON_2>`` in the outbox, the queue and the report, with
nothing left to tell two documents apart), while ``Anna_Schmidt`` is one token
it misses. So the two kinds of detector each read the form they understand,
at the same offsets: pattern types (e-mail, IBAN, phone, identifiers, which
contain those separators) read the name as it is; names, places and
addresses, and the values this data subject's vault already holds, read it
with each separator as a space. The extension is not read (a trailing
``pdf`` makes the model swallow the words before it), and each run of
capitalised words is read alone as well (after a date or a number the model
misses ``Jean Albert``). The model also draws a
person wide in a short string (``kyc Anna Schmidt``, ``Sarah Connor 1985``,
a name run into the IBAN after it) or too narrow (``Peter`` of ``Peter
Parker``): a person or place loses what a pattern type claims and, in cased
text, is fitted to name words (capitalised, no digits): the ones at its edges
that are not are left out, the ones beside it are taken in. Erring, it masks
a capitalised document word next to a name rather than leave a surname.
What no detector claims (document words, numbers, separators, the
extension) stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from pii.analysis import Span, resolve_overlaps, with_repeats

__all__ = ["as_words", "name_spans", "span_values"]

_SEPARATORS = re.compile(r"[-_.+~]")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_WORD = re.compile(r"\S+")
_NAMES = frozenset({"PERSON", "LOCATION"})  # written without digits (capitalised in cased text); addresses hold numbers

Analyze = Callable[[str, list[str]], list[Span]]  # Analyzer.analyze: (text, entity types) -> spans


def as_words(name: str) -> str:
    """``name`` with every word separator as a space: the same length, so offsets into either agree."""
    return _SEPARATORS.sub(" ", name)


def name_spans(
    analyze: Analyze, name: str, entities: list[str], name_like: Collection[str], known: Mapping[str, str]
) -> list[Span]:
    """Non-overlapping spans of personal data in ``name`` (reading order), each read where its detector can.

    ``name_like``: the entity types NER and labels find (persons, places, addresses), read in the spaced form;
    ``known``: the data subject's values (original -> pseudonym), found in either form.
    """
    extension = _EXTENSION.search(name)
    stem = name[: extension.start()] if extension else name
    patterns = with_repeats(stem, analyze(stem, [entity for entity in entities if entity not in name_like]), known)
    words = _Words(as_words(stem), patterns, cased=any(char.isupper() for char in stem))
    wanted = [entity for entity in entities if entity in name_like]
    found = analyze(words.text, wanted)
    for start, end in words.runs():  # each run of name words alone: the model misses "Jean Albert" after a date
        found += [
            Span(s.entity, s.start + start, s.end + start, s.score) for s in analyze(words.text[start:end], wanted)
        ]
    people = [fitted for span in found for piece in _around(span, patterns) if (fitted := words.fit(piece))]
    return resolve_overlaps([*patterns, *with_repeats(words.text, people, known)])


def _around(span: Span, patterns: list[Span]) -> list[Span]:
    """The parts of a name-like span outside the pattern spans: the model may run a name into an IBAN after it."""
    pieces = [span]
    for pattern in patterns:
        pieces = [
            part
            for piece in pieces
            for part in (
                [piece]
                if pattern.end <= piece.start or pattern.start >= piece.end
                else [
                    Span(piece.entity, piece.start, pattern.start, piece.score),
                    Span(piece.entity, pattern.end, piece.end, piece.score),
                ]
            )
            if part.end > part.start
        ]
    return pieces


class _Words:
    """The spaced stem's words, and which of them can be part of a name: no digits, not claimed by a pattern
    type, and (in cased text) capitalised."""

    def __init__(self, text: str, patterns: list[Span], *, cased: bool) -> None:
        self.text = text
        self.cased = cased
        self.tokens = [match.span() for match in _WORD.finditer(text)]
        self.named = [self._name_word(start, end, patterns) for start, end in self.tokens]

    def _name_word(self, start: int, end: int, patterns: list[Span]) -> bool:
        word = self.text[start:end]
        unclaimed = all(pattern.end <= start or pattern.start >= end for pattern in patterns)
        letters = any(char.isalpha() for char in word) and not any(char.isdigit() for char in word)
        return unclaimed and letters and (word[:1].isupper() or not self.cased)

    def runs(self) -> list[tuple[int, int]]:
        """(start, end) of each run of name words that is not the whole text, in cased text only."""
        if not self.cased:
            return []
        runs: list[list[int]] = []
        for index, named in enumerate(self.named):
            if named and runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            elif named:
                runs.append([index])
        spans = [(self.tokens[run[0]][0], self.tokens[run[-1]][1]) for run in runs]
        return [span for span in spans if span != (0, len(self.text))]

    def fit(self, span: Span) -> Span | None:
        """``span`` on whole words; a person or place on its name words and, in cased text, grown over the name
        words beside it (the model's "Peter" of "Peter Parker"). None when no word is left."""
        inside = [i for i, (start, end) in enumerate(self.tokens) if start < span.end and end > span.start]
        if span.entity not in _NAMES:
            if not inside:
                return None
            start, end = max(span.start, self.tokens[inside[0]][0]), min(span.end, self.tokens[inside[-1]][1])
            return Span(span.entity, start, end, span.score)
        named = [i for i in inside if self.named[i]]
        if not named:
            return None
        first, last = named[0], named[-1]
        while self.cased and first > 0 and self.named[first - 1]:  # lower-case text: no word tells a name apart
            first -= 1
        while self.cased and last + 1 < len(self.tokens) and self.named[last + 1]:
            last += 1
        return Span(span.entity, self.tokens[first][0], self.tokens[last][1], span.score)


def span_values(name: str, spans: list[Span], name_like: Collection[str]) -> str:
    """``name`` with the separators inside name-like spans as spaces: the values the vault keeps and compares.

    ``Anna_Schmidt`` in a file name is the person the form's ``Anna Schmidt`` is, so it gets the same
    pseudonym; an e-mail or IBAN keeps its exact characters.
    """
    chars = list(name)
    words = as_words(name)
    for span in spans:
        if span.entity in name_like:
            chars[span.start : span.end] = words[span.start : span.end]
    return "".join(chars)
