"""Turn the ways people print dates, money and identifiers into one canonical form.

Every tier (rules, local model, remote model) answers with strings as they
appear on the page; the same functions normalise all of them, so tiers are
compared and scored on equal terms. Each function returns ``None`` rather than
guessing when its input does not parse.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_vat
from stdnum.exceptions import InvalidChecksum, ValidationError

__all__ = [
    "MONTHS",
    "currency_code",
    "iban_is_valid",
    "normalize_iban",
    "normalize_vat_id",
    "parse_amount",
    "parse_date",
    "party_name",
    "plain_number",
    "vat_id_is_valid",
    "vat_id_is_well_formed",
]

# Month names in the corpora's languages (en, de, fr, nl), accents stripped, lower case; prefixes of 3+ letters match.
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january januar janvier januari jan",
        "february februar fevrier februari feb fev",
        "march marz mars maart mar mrz",
        "april avril avr apr",
        "may mai mei",
        "june juni juin jun",
        "july juli juillet jul juil",
        "august aout augustus aug",
        "september septembre sep sept",
        "october oktober octobre okt oct",
        "november novembre nov",
        "december dezember decembre dec dez",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "₹": "INR", "rs": "INR", "zł": "PLN", "chf": "CHF"}
_ISO_CURRENCIES = {"EUR", "USD", "GBP", "INR", "PLN", "CHF", "SEK", "DKK", "NOK", "CZK", "HUF", "JPY", "CNY", "CAD"}


def _fold(text: str) -> str:
    """Lower case without accents: 'Mär' and 'mar', 'Août' and 'aout' compare equal."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def plain_number(value: Decimal) -> str:
    """A rate or quantity as people write it: no trailing zeros, never Decimal's exponent form ('20', not '2E+1'
    or '20.00'; '5.5')."""
    return format(value.normalize(), "f")


def parse_amount(text: str) -> Decimal | None:
    """'1.234,56 €', '1,234.56', '-8,79', '4.11', '1939' -> Decimal; the last separator is the decimal one
    when two or fewer digits follow it (how European and English invoices both print money)."""
    cleaned = re.sub(r"[^\d,.\-−]", "", text.replace("\u00a0", "").replace(" ", "")).replace("−", "-")
    negative = cleaned.startswith("-") or text.strip().endswith("-")
    digits = cleaned.replace("-", "")
    if not re.search(r"\d", digits):
        return None
    last = max(digits.rfind(","), digits.rfind("."))
    if last >= 0 and 1 <= len(digits) - last - 1 <= 2:
        whole, fraction = digits[:last], digits[last + 1 :]
    elif last >= 0 and len(digits) - last - 1 == 4 and digits.count(digits[last]) == 1:
        whole, fraction = digits[:last], digits[last + 1 :]  # unit prices such as 1,4500
    else:
        whole, fraction = digits, ""
    whole = re.sub(r"[,.]", "", whole)
    try:
        value = Decimal(f"{whole or '0'}.{fraction or '0'}")
    except InvalidOperation:
        return None
    return -value if negative else value


_NUMERIC_DATE = re.compile(r"(\d{1,4})[./\-](\d{1,2})[./\-](\d{2,4})")
_WORD_DATE_DMY = re.compile(r"(\d{1,2})\.?\s*(?:er\s+)?([A-Za-zÀ-ÿ]{3,})\.?\s*,?\s*(\d{4})")
_WORD_DATE_MDY = re.compile(r"([A-Za-zÀ-ÿ]{3,})\.?\s+(\d{1,2})\s*(?:st|nd|rd|th)?\s*,\s*(\d{4})")
_COMPACT_DATE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?!\d)")


def _month(word: str) -> int | None:
    folded = _fold(word)
    if folded in MONTHS:
        return MONTHS[folded]
    for name, number in MONTHS.items():
        if len(name) >= 3 and len(folded) >= 3 and folded.startswith(name):
            return number
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str, *, month_first: bool = False) -> date | None:
    """Dates as printed: 06.08.2013, 03/20/2023, 2013-08-06, 8-9-2022, 'August 3 , 2014', '7. Mai 2014',
    '02 Juillet 2015', 'Jan 1, 2022', 20130806. Day-first unless the first number cannot be a day or
    ``month_first`` says the document writes US dates."""
    text = text.strip()
    if match := _NUMERIC_DATE.search(text):
        first, second, third = (int(g) for g in match.groups())
        if len(match.group(1)) == 4:
            return _safe_date(first, second, third)
        if (month_first and first <= 12) or second > 12:
            return _safe_date(third, first, second)
        return _safe_date(third, second, first)
    if (match := _WORD_DATE_DMY.search(text)) and (month := _month(match.group(2))):
        return _safe_date(int(match.group(3)), month, int(match.group(1)))
    if (match := _WORD_DATE_MDY.search(text)) and (month := _month(match.group(1))):
        return _safe_date(int(match.group(3)), month, int(match.group(2)))
    if match := _COMPACT_DATE.search(text):
        return _safe_date(*(int(g) for g in match.groups()))
    return None


def normalize_iban(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def iban_is_valid(text: str) -> bool:
    return bool(stdnum_iban.is_valid(normalize_iban(text)))


def normalize_vat_id(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text).upper()


def vat_id_is_valid(text: str) -> bool:
    return bool(stdnum_vat.is_valid(normalize_vat_id(text)))


def vat_id_is_well_formed(text: str) -> bool:
    """An EU VAT id of its country's length and characters, whether or not its check digits hold: a mistyped or
    altered id is still one (validation must see it fail)."""
    try:
        stdnum_vat.validate(normalize_vat_id(text))
    except InvalidChecksum:
        return True
    except ValidationError:
        return False
    return True


def currency_code(text: str) -> str | None:
    """An ISO 4217 code from a code or a symbol as printed ('€', 'Rs', 'EUR')."""
    stripped = text.strip()
    if stripped.upper() in _ISO_CURRENCIES:
        return stripped.upper()
    return _CURRENCY_SYMBOLS.get(stripped.lower())


# Marks a scan leaves at the edges of a name: quotes and dashes tesseract reads from specks, rules and box edges.
# Not at the start: the apostrophe of Dutch names ("'t Hooft"); not at the end: the full stop of "Inc." or "S.L.".
_NAME_HEAD = "‘`_-—–~|.,:;*©°=+\\/ \t"
_NAME_TAIL = "’'`_-—–~|,:;*©°=+\\/ \t"


def party_name(text: str) -> str:
    """A party's name without the marks at its edges: '‘Gehringer GbR -' is 'Gehringer GbR', 'Collin SA °' is
    'Collin SA'. A double quote goes only where it closes nothing: '"Sonne" GmbH' keeps its quotes."""
    name = text.lstrip(_NAME_HEAD).rstrip(_NAME_TAIL)
    if name.count('"') % 2 and (name.startswith('"') or name.endswith('"')):  # a quote that closes nothing
        name = (name[1:] if name.startswith('"') else name[:-1]).lstrip(_NAME_HEAD).rstrip(_NAME_TAIL)
    return name
