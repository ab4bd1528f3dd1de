"""Replace detected spans by the operator configured for their type, numbering pseudonyms in reading order.

Pseudonyms are ``<TYPE_n>``: n counts distinct values of that type, in the
order they first appear, continuing after numbers already taken (by this data
subject's earlier documents in the vault, or by tokens already in the text),
so one person is ``<PERSON_1>`` everywhere and re-masking a masked text
changes nothing. Presidio's anonymizer applies operators end-to-start and
hands a custom operator only the value, so the replacement is done here in
one pass instead; it also has no operator for a keyed hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pii.analysis import Span
from pii.config import Operator, PiiConfig
from pii.tokens import PROTECTED_RE, TOKEN_RE

__all__ = ["Masked", "apply_operators", "token_numbers"]

_POSSESSIVE = ("'s", "’s")


@dataclass
class Masked:
    """The result of one replacement pass: the text, the pseudonyms it uses, and counts per entity type."""

    text: str
    originals: dict[str, str] = field(default_factory=dict)  # token -> original, for every pseudonym in the text
    counts: dict[str, int] = field(default_factory=dict)


def token_numbers(tokens: list[str]) -> dict[str, int]:
    """Highest pseudonym number taken per entity type."""
    highest: dict[str, int] = {}
    for token in tokens:
        for entity, number in TOKEN_RE.findall(token):
            highest[entity] = max(highest.get(entity, 0), int(number))
    return highest


def _clean(text: str, span: Span) -> Span | None:
    """Drop a trailing possessive and surrounding blanks, so "John Smith's" and "John Smith" are one person."""
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if text[start:end].endswith(_POSSESSIVE) and end - start > 2:
        end -= 2
    return Span(span.entity, start, end, span.score) if end > start else None


def apply_operators(
    text: str,
    spans: list[Span],
    config: PiiConfig,
    *,
    known: Mapping[str, str],
    keyed_hash: Callable[[str], str],
) -> Masked:
    """Replace ``spans`` (non-overlapping, reading order) in ``text``.

    ``known`` maps originals to the pseudonyms already given to them (the data
    subject's vault entries); ``keyed_hash`` is the HMAC for the keyed-hash operator.
    """
    protected = [(m.start(), m.end()) for m in PROTECTED_RE.finditer(text)]
    taken = token_numbers([*known.values(), *(text[s:e] for s, e in protected)])
    by_value = dict(known)
    result = Masked(text="")
    pieces: list[str] = []
    cursor = 0
    for raw in spans:
        span = _clean(text, raw)
        if span is None or span.start < cursor or any(s < span.end and span.start < e for s, e in protected):
            continue
        value = text[span.start : span.end]
        operator = config.operator_for(span.entity)
        if operator is Operator.PSEUDONYM:
            token = by_value.get(value)
            if token is None:
                taken[span.entity] = taken.get(span.entity, 0) + 1
                token = by_value[value] = f"<{span.entity}_{taken[span.entity]}>"
            result.originals[token] = value
            replacement = token
        elif operator is Operator.KEYED_HASH:
            replacement = f"<{span.entity}#{keyed_hash(value)[:12]}>"
        elif operator is Operator.MASK:
            keep = config.mask_keep_last if len(value) > 2 * config.mask_keep_last else 0
            replacement = "*" * (len(value) - keep) + value[len(value) - keep :]
        else:
            replacement = f"<{span.entity}>"
        pieces += [text[cursor : span.start], replacement]
        cursor = span.end
        result.counts[span.entity] = result.counts.get(span.entity, 0) + 1
    pieces.append(text[cursor:])
    result.text = "".join(pieces)
    return result
