"""Is a labelled value printed on the page at all? The eval's "printed values only" figure rests on this.

The ZUGFeRD truth comes from the embedded XML, and some documents print
something else (or nothing) for a field: no text-reading tier can find those.
The check is deliberately generous — a value counts as printed when any of its
usual printed forms occurs anywhere in the text — so the values it drops are
ones that are really not on the page, and the figure over the rest is not
flattered by an over-eager filter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from extractors.normalize import parse_date

__all__ = ["is_printed"]

_DATE_TOKEN = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|\d{1,2}\.? *(?:er +)?[A-Za-zÀ-ÿ]{3,}\.? *,? *\d{4}"
    r"|[A-Za-zÀ-ÿ]{3,}\.? +\d{1,2} *(?:st|nd|rd|th)? *, *\d{4}|(?<!\d)(?:19|20)\d{6}(?!\d)"
)


def _squeezed(text: str) -> str:
    """Case-, accent-width- and whitespace-insensitive form: 'DE 123 456 789' and 'de123456789' compare equal."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _amount_forms(value: Decimal) -> set[str]:
    """'1234.5' -> 1234.50, 1234,50, 1,234.50, 1.234,50, 1 234,50 (and the bare integer for whole amounts)."""
    plain = f"{abs(value):.2f}"
    whole, cents = plain.split(".")
    grouped = f"{int(whole):,}"
    forms = {f"{whole}.{cents}", f"{whole},{cents}", f"{grouped}.{cents}"}
    forms |= {f"{grouped.replace(',', sep)},{cents}" for sep in (".", " ", "\u00a0", "'")}
    if cents == "00":
        forms.add(whole)
    return forms


def _amount_printed(expected: str, text: str) -> bool:
    try:
        value = Decimal(expected)
    except InvalidOperation:
        return False
    # Forms with cents are specific enough to be found anywhere (pypdf glues table cells: '29.995.0024.99');
    # a bare integer must stand on its own.
    return any(
        form in text if not form.isdigit() else re.search(rf"(?<![\d.,]){form}(?![\d]|[.,]\d)", text)
        for form in _amount_forms(value)
    )


def _date_printed(expected: str, text: str) -> bool:
    for match in _DATE_TOKEN.finditer(text):
        for month_first in (False, True):
            parsed = parse_date(match.group(0), month_first=month_first)
            if parsed is not None and parsed.isoformat() == expected:
                return True
    return False


def _text_printed(expected: str, text: str) -> bool:
    """The value, or (for names the XML packs into several lines) any one of its lines."""
    haystack = _squeezed(text)
    lines = [line for line in expected.splitlines() if line.strip()] or [expected]
    return any(_squeezed(line) in haystack for line in lines)


_CURRENCY_SIGNS = {"EUR": ("€",), "USD": ("$",), "GBP": ("£",), "INR": ("₹", "Rs")}


def _currency_printed(expected: str, text: str) -> bool:
    signs = _CURRENCY_SIGNS.get(expected.upper(), ())
    return expected.upper() in text.upper() or any(sign in text for sign in signs)


_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "grand_total": _amount_printed,
    "net_total": _amount_printed,
    "tax_total": _amount_printed,
    "issue_date": _date_printed,
    "due_date": _date_printed,
    "currency": _currency_printed,
}


def is_printed(field: str, expected: str, text: str) -> bool:
    """Whether ``expected`` (a normalised truth value of ``field``) occurs in ``text`` in some printed form."""
    return _CHECKS.get(field, _text_printed)(expected, text)
