"""A seeded generator of KYC onboarding forms with ground truth: the KYC rules measured on forms nobody tuned them to.

The sample inbox prints every KYC form the same way, and real onboarding
forms do not: captions come in six languages and many wordings, a name is
split into surname and given names, a caption sits above its value or in a
ruled grid or before a dotted leader, the address runs over two lines, and
other dates (passport issue and expiry, the signing date) and other people
(the relationship manager) share the page. Each form draws a layout
(``KYC_LAYOUTS``: geometry only) and a style (language, captions, date
format, which extras appear), so evaluation can hold whole layouts out of
whatever was looked at while improving the rules. National ids are drawn
for the country the form names, checksum-valid under the scheme their
caption or that country indicates. The same seed gives the same forms.
"""

from __future__ import annotations

import io
import random
import string
from datetime import date, timedelta

from faker import Faker
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from stdnum import iban as stdnum_iban
from stdnum.de import idnr
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from extractors.kyc_vocab import KYC_LABELS, NATIONS, SCHEMES
from extractors.layout_vocab import DATE_STYLES, FAKER_LOCALES
from extractors.layouts import LANGUAGES, GeneratedInvoice, address_lines, town
from extractors.validate import identifier_is_valid

__all__ = ["KYC_DEFECTS", "KYC_LAYOUTS", "generate_kyc"]

KYC_LAYOUTS = ("inline", "above", "columns", "grid", "leaders")
KYC_DEFECTS = {"missing_dob": "MISSING_FIELD", "bad_iban": "IBAN_CHECKSUM", "bad_national_id": "NATIONAL_ID_INVALID"}
_IBAN_BBAN = {"en": "GB", "de": "DE", "fr": "FR", "nl": "NL", "it": "IT", "es": "ES"}
_BBAN_SHAPES = {  # A a letter, 9 a digit
    "GB": "AAAA" + "9" * 14,
    "DE": "9" * 18,
    "FR": "9" * 23,
    "NL": "AAAA" + "9" * 10,
    "IT": "A" + "9" * 22,
    "ES": "9" * 20,
}
_TOP = A4[1] - 55

Item = tuple[str, list[str]]  # a caption and its value's printed lines


def generate_kyc(
    seed: int, count: int, *, layouts: tuple[int, ...] = tuple(range(len(KYC_LAYOUTS))), defective: float = 0.0
) -> list[GeneratedInvoice]:
    """``count`` KYC forms drawn in the given layouts; ``defective``: the share carrying one of ``KYC_DEFECTS``."""
    rng = random.Random(seed)
    return [_one(rng, seed * 100_000 + index, layouts, defective) for index in range(count)]


def _one(rng: random.Random, number: int, layouts: tuple[int, ...], defective: float) -> GeneratedInvoice:
    language = rng.choice(LANGUAGES)
    layout = rng.choice(layouts)
    fake = Faker(FAKER_LOCALES[language])
    fake.seed_instance(number)
    words = {concept: rng.choice(options[language]) for concept, options in KYC_LABELS.items()}
    country, kind, captions = rng.choice(NATIONS[language])
    date_format = rng.choice(DATE_STYLES[language])
    given, surname = fake.first_name(), fake.last_name()
    address = address_lines(fake, language) + ([country] if rng.random() < 0.5 else [])
    national_id = _printed_id(rng, _national_id(rng, kind), kind)
    truth: dict[str, str | None] = {
        "full_name": f"{given} {surname}",
        "date_of_birth": (date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 65))).isoformat(),
        "address": ", ".join(address),
        "email": fake.email(),
        "phone": fake.phone_number(),
        "passport_number": _passport(rng, language),
        "national_id": national_id,
        "national_id_scheme": SCHEMES.get(kind, kind),
        "iban": _iban(rng, _IBAN_BBAN[language]),
    }
    broken_id = _broken(truth["national_id"] or "", truth["national_id_scheme"] or "none")
    defects = [d for d in sorted(KYC_DEFECTS) if d != "bad_national_id" or broken_id]
    defect = rng.choice(defects) if rng.random() < defective else None
    _spoil(truth, defect)

    def when(iso: str) -> str:
        return date.fromisoformat(iso).strftime(date_format)

    if rng.random() < 0.4:
        names = [(words["surname"], [surname]), (words["given"], [given])]
        rng.shuffle(names)
    else:
        names = [(words["full_name"], [truth["full_name"] or ""])]
    birth = [(words["date_of_birth"], [when(truth["date_of_birth"])])] if truth["date_of_birth"] else []
    issued = date(2026, 12, 1) - timedelta(days=rng.randint(30, 3000))
    passport = [(words["passport_number"], [truth["passport_number"] or ""])]
    if rng.random() < 0.5:
        passport += [
            (words["issued"], [issued.strftime(date_format)]),
            (words["expiry"], [_expiry(issued, date_format)]),
        ]
    personal = names + birth + ([(words["birthplace"], [town(fake, language)])] if rng.random() < 0.4 else [])
    personal += [(rng.choice(captions), [truth["national_id"] or ""]), *passport]
    contact = [(words["address"], address)]
    if len(address) == 2:  # a form that does not print the country in the address names it on its own line
        contact.append((words["country"], [country]))
    contact += [(words["email"], [truth["email"] or ""]), (words["phone"], [truth["phone"] or ""])]
    iban = truth["iban"] or ""
    bank = [
        (words["iban"], [" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban])
    ]
    sections = [(words["personal"], personal), (words["contact"], contact), (words["bank"], bank)]
    signed = date(2026, 12, 1) - timedelta(days=rng.randint(0, 60))
    footer = [
        (words["signed"], [f"{town(fake, language)}, {signed.strftime(date_format)}"]),
        (words["signature"], [""]),
    ]
    if rng.random() < 0.5:
        footer.append((words["advisor"], [fake.name()]))
    head = [(words["customer"], [str(rng.randint(100000, 9999999))])] if rng.random() < 0.5 else []
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    _draw(canvas, KYC_LAYOUTS[layout], words["title"], head, sections, footer, rng)
    canvas.save()
    return GeneratedInvoice(
        name=f"kyc-{number}.pdf",
        template_key=f"kyc-layout{layout}",
        language=language,
        layout=layout,
        pdf=buffer.getvalue(),
        truth=truth,
        defect=defect,
        findings=[KYC_DEFECTS[defect]] if defect else [],
    )


def _spoil(truth: dict[str, str | None], defect: str | None) -> None:
    """Make the form carry ``defect`` (what is printed is what the truth says)."""
    if defect == "missing_dob":
        truth["date_of_birth"] = None
    elif defect == "bad_iban":
        iban = truth["iban"] or ""
        truth["iban"] = f"{iban[:2]}{(int(iban[2:4]) + 1) % 97 + 2:02d}{iban[4:]}"
    elif defect == "bad_national_id":
        truth["national_id"] = _broken(truth["national_id"] or "", truth["national_id_scheme"] or "none")


def _broken(value: str, scheme: str) -> str | None:
    """``value`` with one digit changed so that ``scheme`` rejects it; None where no change is caught (an SSN has
    no check digit, an ID-card number no public scheme)."""
    if scheme == "none":
        return None
    for index in reversed(range(len(value))):
        if value[index].isdigit():
            changed = value[:index] + str((int(value[index]) + 1) % 10) + value[index + 1 :]
            if not identifier_is_valid(scheme, changed):
                return changed
    return None


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _national_id(rng: random.Random, kind: str) -> str:
    """A checksum-valid id of ``kind`` (rejection sampling where a scheme has rules beyond its check digits)."""
    while True:
        if kind == "gb.nino":
            return rng.choice("ABCEGHJKLMNPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ") + _digits(rng, 6) + "C"
        if kind == "de.idcard":
            return rng.choice("CFGHJKLMNPRTVWXYZ") + "".join(
                rng.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(8)
            )
        if kind == "us.ssn":
            value = f"{rng.randint(1, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        elif kind == "de.idnr":
            body = str(rng.randint(1, 9)) + _digits(rng, 9)
            value = body + mod_11_10.calc_check_digit(body)
        elif kind == "fr.nir":
            body = f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
            body += _digits(rng, 6)
            value = body + nir.calc_check_digits(body)
        elif kind == "nl.bsn":
            body = str(rng.randint(1, 9)) + _digits(rng, 7)
            value = body + str(sum((9 - i) * int(d) for i, d in enumerate(body)) % 11)
        elif kind == "it.codicefiscale":
            body = "".join(rng.choice(string.ascii_uppercase) for _ in range(6)) + _digits(rng, 2)
            body += rng.choice("ABCDEHLMPRST") + f"{rng.randint(1, 28) + rng.choice((0, 40)):02d}"
            body += rng.choice("ABCDEFGHILM") + _digits(rng, 3)
            value = body + codicefiscale.calc_check_digit(body)
        else:
            value = _digits(rng, 8)
            value += dni.calc_check_digit(value)
        module = {"us.ssn": ssn, "de.idnr": idnr, "fr.nir": nir, "nl.bsn": bsn, "it.codicefiscale": codicefiscale}
        if module.get(kind, dni).is_valid(value):
            return value


def _printed_id(rng: random.Random, value: str, kind: str) -> str:
    """The id as forms print it: an SSN with dashes, a NIR or an NI number in groups, the others as they are."""
    if kind == "us.ssn":
        return f"{value[:3]}-{value[3:5]}-{value[5:]}"
    if kind == "fr.nir" and rng.random() < 0.5:
        return " ".join((value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:]))
    if kind == "gb.nino":
        return " ".join((value[:2], value[2:4], value[4:6], value[6:8], value[8:]))
    return value


def _passport(rng: random.Random, language: str) -> str:
    letters = "CFGHJKLMNPRTVWXYZ"
    shapes = {"de": "AXXXXXXXX", "fr": "99AA99999", "nl": "AAXXXXXX9", "it": "AA9999999", "es": "AAA999999"}
    shape = shapes.get(language, "999999999")
    pick = {"A": letters, "9": string.digits, "X": letters + string.digits}
    return "".join(rng.choice(pick[c]) for c in shape)


def _iban(rng: random.Random, country: str) -> str:
    """A valid IBAN of ``country`` (national check digits inside some BBANs: drawn until python-stdnum accepts)."""
    while True:
        bban = "".join(rng.choice(string.ascii_uppercase if c == "A" else string.digits) for c in _BBAN_SHAPES[country])
        value = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        if stdnum_iban.is_valid(value):
            return value


def _expiry(issued: date, date_format: str) -> str:
    return issued.replace(year=issued.year + 10).strftime(date_format) if issued.month != 2 else "-"


def _draw(
    canvas: Canvas,
    layout: str,
    title: str,
    head: list[Item],
    sections: list[tuple[str, list[Item]]],
    footer: list[Item],
    rng: random.Random,
) -> None:
    """Title, an optional reference line, the sections in ``layout``'s geometry, then the signing block."""
    font = rng.choice(["Helvetica", "Times"])
    canvas.setFont(font + "-Bold", 16)
    canvas.drawString(50, _TOP, title)
    canvas.setFont(_regular(font), 9)
    for caption, lines in head:
        canvas.drawRightString(A4[0] - 50, _TOP, f"{caption}: {lines[0]}")
    y = _TOP - 35
    if layout == "columns":
        left = _section(canvas, layout, font, *sections[0], 50, y)
        right = y
        for name, items in sections[1:]:
            right = _section(canvas, layout, font, name, items, 310, right)
        y = min(left, right)
    else:
        for name, items in sections:
            y = _section(canvas, layout, font, name, items, 50, y)
    canvas.setFont(_regular(font), 9)
    for caption, lines in footer:
        y -= 18
        canvas.drawString(50, y, f"{caption}: {lines[0] or '_' * 30}")


def _section(canvas: Canvas, layout: str, font: str, name: str, items: list[Item], x: float, y: float) -> float:
    """One section's heading and fields at ``(x, y)``; returns the y under it."""
    canvas.setFont(font + "-Bold", 11)
    canvas.drawString(x, y, name)
    y -= 16
    for caption, lines in items:
        canvas.setFont(_regular(font), 9)
        if layout == "above":
            canvas.setFont(_regular(font), 7)
            canvas.drawString(x, y, caption)
            canvas.setFont(_regular(font), 10)
            for line in lines:
                y -= 12
                canvas.drawString(x + 3, y, line)
            canvas.rect(x, y - 4, 300, 12 * len(lines) + 3, stroke=1, fill=0)
            y -= 18
            continue
        if layout == "grid":
            canvas.rect(x, y - 14 * len(lines) + 10, 160, 14 * len(lines), stroke=1, fill=0)
            canvas.rect(x + 160, y - 14 * len(lines) + 10, 300, 14 * len(lines), stroke=1, fill=0)
            value_x = x + 165
            canvas.drawString(x + 4, y, caption)
        elif layout == "leaders":
            value_x = x + 190
            canvas.drawString(x, y, caption + " " + "." * max(3, int((185 - canvas.stringWidth(caption)) / 2.6)))
        else:  # inline and columns: "Caption: value", continued lines under the value
            text = f"{caption}: "
            canvas.drawString(x, y, text)
            value_x = x + canvas.stringWidth(text)
        for index, line in enumerate(lines):
            canvas.drawString(value_x, y - 14 * index, line)
        y -= 14 * len(lines) + (0 if layout == "grid" else 4)
    return y - 10


def _regular(font: str) -> str:
    return "Times-Roman" if font == "Times" else font
