"""Candidate -> a fixed-length vector of numbers: label words around it, where it sits, how it relates to the rest.

The label lexicons name *concepts* (issue date, due date, delivery, net, tax,
total, ...) in English, German, French, Dutch, Italian and Spanish; a concept
fires when one of its words starts a word in a context (left of the value on
its line, right of it, the line above, the line above that). The model then
learns which concepts in which place make a value the invoice number, the
issue date or the grand total, which is what carries over to a layout it has
never seen. Document-level features relate a candidate to its siblings:
which date is earliest, which amount is the largest, which amounts add up,
and for party names and addresses which block they belong to: a name line
followed by an address is a block's head, blocks are ranked in reading
order (the seller's usually comes first, or sits by the VAT id and IBAN in a
footer), and a block near a VAT id or bank line is the seller's more often.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from docval.domain import ExtractedField
from extractors.matching import matches
from extractors.model.candidates import FIELD_KINDS, Candidate, fold
from extractors.model.lexicon import CONCEPTS

__all__ = ["FEATURE_NAMES", "feature_matrix", "names_concept"]


def _starting_a_word(words: Iterable[str]) -> re.Pattern[str]:
    """Any of ``words`` where it starts a word (``lexicon``: a compound matches by its head)."""
    return re.compile("(?<![a-z0-9])(?:" + "|".join(re.escape(word) for word in words) + ")")


_PATTERNS = {concept: _starting_a_word(words) for concept, words in CONCEPTS.items()}
# Any concept's word: a text where it finds none holds no concept (one search instead of one per concept; most
# context texts are values, names and blanks).
_ANY_CONCEPT = _starting_a_word(word for words in CONCEPTS.values() for word in words)
_CONTEXTS = ("left", "right", "above", "above2", "near_left")
_POSITION = (
    "page_index",
    "last_page",
    "line_frac",
    "x_frac",
    "alone",
    "tokens",
    "occurrences",
    "colon_left",
    "first_on_line",
    "last_on_line",
    "line_position_in_doc",
)
_DATE = ("date_rank", "date_is_min", "date_is_max", "date_count", "days_from_min", "days_to_max", "in_range")
_AMOUNT = ("amount_rank", "amount_is_max", "log_amount", "negative", "is_sum", "is_addend", "currency_near", "zero")
_ID = ("length", "digits", "letters", "has_dash", "has_slash", "all_digits", "looks_like_year")
_CURRENCY = ("currency_share", "is_symbol")
_PARTY = ("words", "upper_share", "first_line", "self_title", "self_label", "has_digits", "repeated", "legal_form")
_BLOCK = ("part", "first_part", "last_part", "block_head", "block_rank", "block_first", "block_last", "vat_near")
_ADDRESS = ("address_lines", "street_number", "postcode_leads", "name_inside", "caption_above")
FEATURE_NAMES = (
    *(f"rules:{name}:{part}" for name in FIELD_KINDS for part in ("chosen", "confidence")),
    *(f"{context}:{concept}" for context in _CONTEXTS for concept in CONCEPTS),
    *_POSITION,
    *_DATE,
    *_AMOUNT,
    *_ID,
    *_CURRENCY,
    *_PARTY,
    *_BLOCK,
    *_ADDRESS,
)


def feature_matrix(found: Sequence[Candidate], rules: Mapping[str, ExtractedField]) -> np.ndarray:
    """One row per candidate, columns as ``FEATURE_NAMES``; document-level features use all of ``found``.

    The rules tier's answers are features too (stacking): whether the rules chose this candidate's value for
    a field, and with what confidence; the model learns when to follow them."""
    if not found:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    siblings = _Siblings(found)
    return np.array([_rules(candidate, rules) + _row(candidate, siblings) for candidate in found], dtype=np.float32)


def names_concept(concept: str, texts: Iterable[str]) -> bool:
    """Whether any of ``texts`` holds a word of ``concept``'s labels (``lexicon.CONCEPTS``), wherever it stands."""
    return any(_PATTERNS[concept].search(fold(text)) for text in texts)


def _concepts(text: str, seen: dict[str, list[float]]) -> list[float]:
    """Which concepts' patterns ``text`` holds. Candidates on one line share their text above and much of their left
    and right, so each distinct text is searched once per document (``seen``)."""
    flags = seen.get(text)
    if flags is None:
        if _ANY_CONCEPT.search(text) is None:
            flags = seen[text] = [0.0] * len(_PATTERNS)
        else:
            flags = seen[text] = [float(bool(pattern.search(text))) for pattern in _PATTERNS.values()]
    return flags


def _rules(c: Candidate, rules: Mapping[str, ExtractedField]) -> list[float]:
    row = []
    for name, kind in FIELD_KINDS.items():
        answer = rules.get(name)
        chosen = answer is not None and kind == c.kind and matches(name, c.value, str(answer.value))
        row += [float(chosen), answer.confidence if chosen and answer is not None else 0.0]
    return row


class _Siblings:
    """What a candidate is compared against: the document's dates, amounts and currencies (and, to search each
    context text once, the concepts found in texts seen so far)."""

    def __init__(self, found: Sequence[Candidate]) -> None:
        self.count = Counter((c.kind, c.value) for c in found)
        self.concepts: dict[str, list[float]] = {}  # context text -> its concept flags (``_concepts``)
        self.dates = sorted({date.fromisoformat(c.value) for c in found if c.kind == "date"})
        amounts = {Decimal(c.value) for c in found if c.kind == "amount"}
        self.amounts = sorted(amounts, key=abs, reverse=True)
        big = self.amounts[:40]  # the pairwise sums only need the larger amounts
        self.sums = {a + b for i, a in enumerate(big) for b in big[i + 1 :]}
        self.addends = {a for a in big for b in big if (a != b and a + b in amounts) or (b - a in amounts and a != b)}
        self.currencies = Counter(c.value for c in found if c.kind == "currency")
        self.lines_before = {}
        total = 0
        for candidate in found:
            self.lines_before.setdefault(candidate.page_index, total)
            total = max(total, self.lines_before[candidate.page_index] + candidate.lines)
        self.total_lines = max(total, 1)
        self.addresses = {(c.page_index, c.line, c.part) for c in found if c.kind == "address"}
        self.blocks = sorted({(c.page_index, c.line) for c in found if c.kind == "address"})

    def block_of(self, c: Candidate) -> tuple[int, int] | None:
        """Where the address of the block a candidate belongs to starts: its own, or the one right after a name."""
        if c.kind == "address":
            return c.page_index, c.line
        if c.part and (c.page_index, c.line, c.part + 1) in self.addresses:
            return c.page_index, c.line
        if not c.part and (c.page_index, c.line + 1, 0) in self.addresses:
            return c.page_index, c.line + 1
        return None


def _row(c: Candidate, s: _Siblings) -> list[float]:
    contexts = (c.left, c.right, c.above[0], c.above[1], c.left[-16:])
    row = [flag for text in contexts for flag in _concepts(text, s.concepts)]
    stripped = c.line_text.strip()
    row += [
        c.page_index / max(c.pages - 1, 1),
        float(c.page_index == c.pages - 1),
        c.line / max(c.lines, 1),
        len(c.left) / max(len(c.line_text), 1),
        float(stripped == c.raw.strip()),
        min(len(stripped.split()), 20) / 20,
        min(s.count[(c.kind, c.value)], 10) / 10,
        float(c.left.rstrip().endswith(":")),
        float(not c.left.strip()),
        float(not c.right.strip()),
        (s.lines_before.get(c.page_index, 0) + c.line) / s.total_lines,
    ]
    row += _date_features(c, s) if c.kind == "date" else [0.0] * len(_DATE)
    row += _amount_features(c, s) if c.kind == "amount" else [0.0] * len(_AMOUNT)
    row += _id_features(c) if c.kind == "id" else [0.0] * len(_ID)
    row += _currency_features(c, s) if c.kind == "currency" else [0.0] * len(_CURRENCY)
    row += _party_features(c, s) if c.kind == "party" else [0.0] * len(_PARTY)
    row += _block_features(c, s) if c.kind in ("party", "address") else [0.0] * len(_BLOCK)
    row += _address_features(c) if c.kind == "address" else [0.0] * len(_ADDRESS)
    return row


def _date_features(c: Candidate, s: _Siblings) -> list[float]:
    value = date.fromisoformat(c.value)
    rank = s.dates.index(value)
    ranged = bool(re.match(r"\s*(-|–|to\b|bis\b|au\b|al\b|tot\b)", c.right)) or bool(
        re.search(r"(-|–|to|bis|au|al|tot)\s*$", c.left)
    )
    return [
        rank / max(len(s.dates) - 1, 1),
        float(rank == 0),
        float(rank == len(s.dates) - 1),
        min(len(s.dates), 10) / 10,
        min((value - s.dates[0]).days, 120) / 120,
        min((s.dates[-1] - value).days, 120) / 120,
        float(ranged),
    ]


def _amount_features(c: Candidate, s: _Siblings) -> list[float]:
    value = Decimal(c.value)
    rank = s.amounts.index(value)
    near = c.left[-6:] + c.right[:6]
    return [
        rank / max(len(s.amounts) - 1, 1),
        float(rank == 0),
        math.log10(float(abs(value)) + 1) / 7,
        float(value < 0),
        float(value in s.sums),
        float(value in s.addends),
        float(bool(re.search(r"eur|usd|gbp|chf|[€$£]", near))),
        float(value == 0),
    ]


def _id_features(c: Candidate) -> list[float]:
    token = c.value
    digits = sum(ch.isdigit() for ch in token)
    return [
        min(len(token), 30) / 30,
        digits / len(token),
        float(any(ch.isalpha() for ch in token)),
        float("-" in token),
        float("/" in token),
        float(token.isdigit()),
        float(bool(re.fullmatch(r"(19|20)\d{2}", token))),
    ]


def _currency_features(c: Candidate, s: _Siblings) -> list[float]:
    total = sum(s.currencies.values())
    return [s.currencies[c.value] / max(total, 1), float(len(c.raw) == 1)]


def _party_features(c: Candidate, s: _Siblings) -> list[float]:
    """A party name: a few words, often a legal form (in the left/right contexts' ``legal_form`` concept and
    here), rarely a label or the document title itself."""
    letters = [ch for ch in c.value if ch.isalpha()]
    own = fold(c.value)
    return [
        min(len(c.value.split()), 10) / 10,
        sum(ch.isupper() for ch in letters) / max(len(letters), 1),
        float(c.line == 0 or not c.above[0]),
        float(bool(_PATTERNS["invoice"].search(own) or _PATTERNS["credit"].search(own))),
        float(any(_PATTERNS[name].search(own) for name in ("issue", "due", "net", "tax", "grand", "page"))),
        float(any(ch.isdigit() for ch in c.value)),
        min(s.count[(c.kind, c.value)], 5) / 5,
        float(bool(_PATTERNS["legal_form"].search(own))),
    ]


_STREET_NUMBER = re.compile(r"\d")
_POSTCODE_LEAD = re.compile(r"(?:^|, )(?:\d{4,5}|\d{4} ?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}) ")


def _block_features(c: Candidate, s: _Siblings) -> list[float]:
    """Which party block a name or address belongs to, where that block stands, and what is printed near it."""
    block = s.block_of(c)
    rank = s.blocks.index(block) if block in s.blocks else -1
    near = (c.right, c.below[0], c.below[1], c.above[0])
    return [
        float(c.part > 0),
        float(c.part == 1),
        float(c.part > 0 and c.part == c.parts),
        float(block is not None),
        rank / max(len(s.blocks) - 1, 1) if rank >= 0 else -1.0,
        float(rank == 0),
        float(rank >= 0 and rank == len(s.blocks) - 1),
        float(any(_PATTERNS["vatid"].search(text) or _PATTERNS["bank"].search(text) for text in near)),
    ]


def _address_features(c: Candidate) -> list[float]:
    """An address: how many lines, whether it starts with a street number and ends with a postcode and town,
    whether it swallowed the name line (a legal form inside), whether a caption stands right above it."""
    lines = c.value.split(", ")
    own = fold(c.value)
    return [
        min(len(lines), 5) / 5,
        float(bool(_STREET_NUMBER.search(lines[0]))),
        float(bool(_POSTCODE_LEAD.search(c.value))),
        float(bool(_PATTERNS["legal_form"].search(own))),
        float(c.above[0].rstrip().endswith(":")),
    ]
