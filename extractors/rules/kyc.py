"""KYC form recognizers: onboarding forms print a caption per field, so label anchors do nearly all the work."""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractors.normalize import normalize_iban, parse_date
from extractors.rules.base import Candidate, LabelRecognizer, PageLike

__all__ = ["extract_kyc"]


def _text(raw: str) -> str | None:
    value = " ".join(raw.split()).strip(" ,;:")
    return value or None


def _iso_date(raw: str) -> str | None:
    parsed = parse_date(raw)
    return parsed.isoformat() if parsed else None


def _iban(raw: str) -> str | None:
    """Kept even with a bad checksum: validation must see it to report IBAN_CHECKSUM."""
    value = normalize_iban(raw)
    return value if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", value) else None


def _phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    return " ".join(raw.split()) if 7 <= len(digits) <= 15 else None


_LINE = r"[^\n]{2,120}"
_RECOGNIZERS = (
    LabelRecognizer(
        "full_name",
        {
            r"full +name|name +of +(?:the +)?applicant|vollständiger +name|nom +complet": 1.0,
            r"^ *name\b|\bnom\b|\bname\b": 0.8,
        },
        _LINE,
        _text,
        allow_before=False,
    ),
    LabelRecognizer(
        "date_of_birth",
        {r"date +of +birth|geburtsdatum|date +de +naissance|\bdob\b|born +on": 1.0},
        r"\d{4}-\d{2}-\d{2}|\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|\d{1,2}\.? *[A-Za-zÀ-ÿ]{3,}\.? *\d{4}",
        _iso_date,
        allow_before=False,
    ),
    LabelRecognizer(
        "address",
        {r"(?:residential|home|postal)? *address|anschrift|adresse|wohnort": 0.9},
        _LINE,
        _text,
        allow_before=False,
    ),
    LabelRecognizer(
        "email",
        {r"e-?mail(?: +address)?|courriel": 1.0},
        r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
        _text,
    ),
    LabelRecognizer(
        "phone",
        {r"phone|telephone|telefon|téléphone|mobile|handy|tel\.?": 0.95},
        r"\+?[\d(][\d ()/.\-]{6,20}\d",
        _phone,
    ),
    LabelRecognizer(
        "passport_number",
        {r"passport *(?:number|no\.?|nr\.?)?|reisepass(?:nummer)?|passeport|pass-?nr\.?": 1.0},
        r"[A-Z0-9]{6,12}",
        _text,
    ),
    LabelRecognizer(
        "national_id",
        {
            r"national +id(?:entity)?(?: +(?:number|no\.?))?|personalausweis(?:nummer)?|id +card +(?:number|no\.?)"
            r"|social +security +(?:number|no\.?)|ssn|tax +id": 1.0
        },
        r"[A-Z0-9][A-Z0-9 \-]{4,18}[A-Z0-9]",
        _text,
    ),
    LabelRecognizer("iban", {r"iban": 1.0}, r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,32}", _iban),
)


def extract_kyc(pages: Sequence[PageLike]) -> dict[str, Candidate]:
    found = {recognizer.field_name: recognizer.find(pages) for recognizer in _RECOGNIZERS}
    return {name: candidate for name, candidate in found.items() if candidate is not None}
