"""When an extracted value counts as the truth: the comparison eval, calibration and the router share.

Amounts compare as numbers, names also match one printed line of a packed
truth, identifiers ignore spaces, case and a leading '#', IBANs and VAT ids
compare normalised; everything else compares case- and space-folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from extractors.normalize import normalize_iban, normalize_vat_id

__all__ = ["matches", "same_amount", "same_name"]


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def same_amount(predicted: str, expected: str) -> bool:
    try:
        return Decimal(predicted) == Decimal(expected)
    except InvalidOperation:
        return False


def _letters(text: str) -> str:
    """Letters and digits only: an address matches whatever commas or line breaks the reader put in it."""
    return "".join(c for c in _fold(text) if c.isalnum())


def same_name(predicted: str, expected: str) -> bool:
    """Equal, or equal to one printed line of the truth: the XML packs several printed lines into one name."""
    lines = [_fold(line) for line in expected.splitlines() if line.strip()]
    return _fold(predicted) in {_fold(expected), *lines}


def _same_reference(predicted: str, expected: str) -> bool:
    def canon(value: str) -> str:
        return re.sub(r"\s+", "", value).lstrip("#").upper()

    return canon(predicted) == canon(expected)


_COMPARATORS: dict[str, Callable[[str, str], bool]] = {
    "grand_total": same_amount,
    "net_total": same_amount,
    "tax_total": same_amount,
    "tax_rate": same_amount,
    "seller_address": lambda p, e: _letters(p) == _letters(e),
    "seller_name": same_name,
    "buyer_name": same_name,
    "iban": lambda p, e: normalize_iban(p) == normalize_iban(e),
    "seller_vat_id": lambda p, e: normalize_vat_id(p) == normalize_vat_id(e),
    "invoice_number": _same_reference,
    "address": lambda p, e: _letters(p) == _letters(e),
    "national_id": _same_reference,
    "passport_number": _same_reference,
    "phone": lambda p, e: re.sub(r"\D", "", p) == re.sub(r"\D", "", e),
}


def matches(field: str, predicted: str, expected: str) -> bool:
    compare = _COMPARATORS.get(field, lambda p, e: _fold(p) == _fold(e))
    return compare(predicted, expected)
