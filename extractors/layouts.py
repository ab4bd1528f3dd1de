"""A seeded generator of invoice layouts with ground truth: training and held-out data for the model tier.

``samples.py`` draws one fixed layout for the demo inbox; a model trained on
one layout learns that layout. Here every document draws a *template* (where
the head block, the party blocks and the totals go, how the table looks)
and a *style* (label language EN/DE/FR/NL/IT/ES, synonyms, date and number
formats, currency printing), plus the things that trip readers on real
invoices: distractor dates (delivery, service period, order date, print
date), a due date that is sometimes absent, credit notes with negative
amounts, line tables that push the totals onto page 2, customer and order
numbers next to the invoice number. Each document carries its truth and a
``template_key`` (layout + language), so evaluation can keep whole layouts
out of training. The same seed gives the same documents.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from faker import Faker
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.eu import vat as eu_vat
from stdnum.iso7064 import mod_11_10

from extractors.layout_draw import LAYOUTS, draw
from extractors.layout_vocab import CURRENCIES, DATE_STYLES, FAKER_LOCALES, LABELS, NUMBER_STYLES
from extractors.sample_fields import CENT

__all__ = [
    "DEFECTS",
    "LANGUAGES",
    "GeneratedInvoice",
    "Style",
    "address_lines",
    "generate",
    "invoice_values",
    "town",
    "truth_of",
]

LANGUAGES = ("en", "de", "fr", "nl", "it", "es")


@dataclass
class GeneratedInvoice:
    """One generated PDF with the values a correct reader must return (JSON-ready strings)."""

    name: str
    template_key: str
    language: str
    layout: int
    pdf: bytes
    truth: dict[str, str | None] = field(default_factory=dict)
    defect: str | None = None
    findings: list[str] = field(default_factory=list)  # finding codes validation must raise


@dataclass
class Style:
    language: str
    labels: dict[str, str]
    date_format: str
    separators: str  # thousands + decimal
    currency: tuple[str, str]
    credit: bool

    def date(self, value: date) -> str:
        return value.strftime(self.date_format)

    def money(self, value: Decimal) -> str:
        thousands, decimal = self.separators
        text = f"{abs(value):,.2f}".replace(",", "§").replace(".", decimal).replace("§", thousands)
        return ("-" if value < 0 else "") + text


# defect -> the finding code validation must raise for it
DEFECTS = {
    "total_mismatch": "TOTAL_MISMATCH",
    "bad_iban": "IBAN_CHECKSUM",
    "bad_vat_id": "VAT_ID_INVALID",
    "due_before_issue": "DATE_ORDER",
    "missing_vat_id": "MISSING_FIELD",
}


def generate(
    seed: int,
    count: int,
    *,
    layouts: tuple[int, ...] = tuple(range(len(LAYOUTS))),
    defective: float = 0.0,
    small: bool = False,
) -> list[GeneratedInvoice]:
    """``count`` invoices drawn with the given layout templates; the same arguments give the same documents.

    ``defective``: the share that carries one of ``DEFECTS``; ``small``: totals in the hundreds (a policy's
    large-amount rule then does not hold them)."""
    rng = random.Random(seed)
    return [_one(rng, seed * 100_000 + index, layouts, defective, small) for index in range(count)]


def _one(rng: random.Random, number: int, layouts: tuple[int, ...], defective: float, small: bool) -> GeneratedInvoice:
    language = rng.choice(LANGUAGES)
    layout = rng.choice(layouts)
    fake = Faker(FAKER_LOCALES[language])
    fake.seed_instance(number)
    style = Style(
        language=language,
        labels={concept: rng.choice(options[language]) for concept, options in LABELS.items()},
        date_format=rng.choice(DATE_STYLES[language]),
        separators=rng.choice(NUMBER_STYLES[language]),
        currency=rng.choice(CURRENCIES),
        credit=rng.random() < 0.12,
    )
    data, defect = invoice_values(rng, fake, style, defective=defective, small=small)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    draw(canvas, layout, style, data, rng)
    canvas.save()
    truth = truth_of(data)
    return GeneratedInvoice(
        name=f"gen-{number}.pdf",
        template_key=f"gen-layout{layout}",  # the language is style: a layout is one template
        language=language,
        layout=layout,
        pdf=buffer.getvalue(),
        truth=truth,
        defect=defect,
        findings=[DEFECTS[defect]] if defect else [],
    )


_TRUTH_FIELDS = (
    "invoice_number",
    "issue_date",
    "due_date",
    "seller_name",
    "buyer_name",
    "seller_vat_id",
    "seller_address",
    "iban",
    "currency",
    "tax_rate",
    "net_total",
    "tax_total",
    "grand_total",
)


def invoice_values(
    rng: random.Random, fake: Faker, style: Style, *, defective: float, small: bool
) -> tuple[dict[str, object], str | None]:
    """One invoice's values in ``style`` and its defect (None for a clean one), for any renderer: the reportlab
    layouts here, or another engine's templates (``benchmarks/html_bench.py``)."""
    data = _data(rng, fake, style, small)
    defect = rng.choice(sorted(DEFECTS)) if rng.random() < defective else None
    if defect:
        _spoil(data, defect)
    return data, defect


def truth_of(data: dict[str, object]) -> dict[str, str | None]:
    """What a correct reader returns for an invoice of ``data`` (after its defect: what is printed)."""
    return {key: _text(data[key]) for key in _TRUTH_FIELDS}


def _data(rng: random.Random, fake: Faker, style: Style, small: bool) -> dict[str, object]:
    """The invoice's values: truth fields (strings) plus printed-only extras (dates, numbers, lines)."""
    issue = date(2024, 1, 1) + timedelta(days=rng.randint(0, 900))
    sign = Decimal(-1) if style.credit else Decimal(1)
    rate = rng.choice([Decimal(19), Decimal(20), Decimal(21), Decimal(22), Decimal(7), Decimal(10)])
    lines = []
    for _ in range(rng.choice([1, 2, 3] if small else [1, 2, 3, 4, 6, 9, 14, 30])):
        quantity = Decimal(rng.randint(1, 4 if small else 20))
        price = Decimal(rng.randint(100, 40000 if small else 400000)) / 100
        lines.append((fake.catch_phrase()[:40], quantity, price, (quantity * price).quantize(CENT)))
    net = sum((line[3] for line in lines), Decimal(0)) * sign
    tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    prefix = rng.choice(["INV-", "RE", "F", "", "FA-", "2024/", "R-"])
    due = issue + timedelta(days=rng.choice([7, 10, 14, 30, 60]))
    return {
        "invoice_number": f"{prefix}{rng.randint(100, 9999999)}",
        "issue_date": issue.isoformat(),
        "due_date": due.isoformat() if rng.random() < 0.75 else None,
        "due": due,
        "issue": issue,
        "delivery": issue - timedelta(days=rng.randint(0, 20)),
        "order": issue - timedelta(days=rng.randint(5, 60)),
        "printed": issue + timedelta(days=rng.randint(0, 3)),
        "seller_name": fake.company(),
        "seller_address": address_lines(fake, style.language),
        "buyer_name": fake.company(),
        "buyer_address": address_lines(fake, style.language),
        "customer": str(rng.randint(10000, 999999)),
        "seller_vat_id": _vat_id(rng, style.language),
        "iban": _iban(rng),
        "currency": style.currency[0],
        "rate": rate,
        "tax_rate": str(rate),
        "lines": lines,
        "sign": sign,
        "net_total": str(net),
        "tax_total": str(tax),
        "grand_total": str(net + tax),
        "extras": [k for k in ("delivery", "period", "order", "printed", "customer") if rng.random() < 0.5],
    }


def _text(value: object) -> str | None:
    """Truth as the schema's JSON form: an address's lines joined with ', ', numbers as decimal strings."""
    if value is None:
        return None
    return ", ".join(value) if isinstance(value, list) else str(value)


def address_lines(fake: Faker, language: str) -> list[str]:
    """Street, postcode and town (``town``; drawn first, so a seed keeps drawing the documents it always drew)."""
    place = town(fake, language)
    return [fake.street_address().replace("\n", " "), f"{fake.postcode()} {place}"]


def town(fake: Faker, language: str) -> str:
    """A town's name. Faker's Italian towns depend on Python's hash seed (a set inside the provider), so an Italian
    town is built from a surname instead: the same seed must give the same documents in every process."""
    return f"San {fake.last_name()}" if language == "it" else fake.city()


def _spoil(data: dict[str, object], defect: str) -> None:
    """Make the invoice carry ``defect`` (what is printed is what the truth says)."""
    if defect == "total_mismatch":
        data["grand_total"] = str(Decimal(str(data["grand_total"])) + Decimal("10.00"))
    elif defect == "bad_iban":
        iban = str(data["iban"])
        data["iban"] = f"{iban[:2]}{(int(iban[2:4]) + 1) % 97 + 2:02d}{iban[4:]}"
    elif defect == "bad_vat_id":
        data["seller_vat_id"] = _break_checksum(str(data["seller_vat_id"]))
    elif defect == "due_before_issue":
        data["due"] = data["issue"] - timedelta(days=10)  # type: ignore[operator]
        data["due_date"] = data["due"].isoformat()  # type: ignore[attr-defined]
    elif defect == "missing_vat_id":
        data["seller_vat_id"] = None


def _break_checksum(vat: str) -> str:
    """Change the last digit the VAT id's checksum covers, so the defect is one a validator can see.

    Not simply the last digit: a Dutch id ends in a ``B01`` sequence its checksum does not cover, and
    changing that left a valid id labelled defective (it was then, rightly, auto-approved).
    """
    for index in reversed(range(len(vat))):
        if vat[index].isdigit():
            broken = vat[:index] + str((int(vat[index]) + 1) % 10) + vat[index + 1 :]
            if not eu_vat.is_valid(broken):
                return broken
    raise ValueError(f"no digit of {vat!r} is covered by its checksum")


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(count - 1))


def _vat_id(rng: random.Random, language: str) -> str:
    """A checksum-valid VAT id of the seller's country (German for English and Spanish sellers)."""
    if language == "fr":
        siren = _digits(rng, 8)
        siren += luhn.calc_check_digit(siren)
        value = f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    elif language == "it":
        body = _digits(rng, 7) + f"{rng.randint(1, 100):03d}"
        value = f"IT{body}{luhn.calc_check_digit(body)}"
    elif language == "nl":
        value = ""
        while not eu_vat.is_valid(value):
            value = f"NL{_digits(rng, 9)}B01"
    else:
        body = _digits(rng, 8)
        value = f"DE{body}{mod_11_10.calc_check_digit(body)}"
    assert eu_vat.is_valid(value), value
    return value


def _iban(rng: random.Random) -> str:
    bban = _digits(rng, 8) + _digits(rng, 10)
    return f"DE{stdnum_iban.calc_check_digits('DE00' + bban)}{bban}"
