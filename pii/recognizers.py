"""docval's own recognizers, each a small Presidio-style class: patterns, context words, a checksum.

They close the gaps measured in ``../shared/notes/presidio-ocr.md``: Presidio's
card regex misses Mastercard 2-series and 19-digit cards, its e-mail
recognizer rejects internal domains, it has no EU VAT/BIC/national-id
checksums, and without NER it finds no names or addresses at all. The label
recognizer (pii/label_recognizer.py) gets those back in structured documents,
where a value follows a label ("Name:", "Bill to:", "Date of birth:") or sits
under a table header.

Checksums decide differently by strength: a VAT id with a valid check digit
is proof (score 1.0), while a BIC or a Luhn-valid digit run only passes the
gate and keeps its low pattern score, so it is masked only with a context word
nearby ("BIC", "card") — otherwise every upper-case heading would be a BIC.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import ClassVar

import phonenumbers
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
from stdnum import bic, iban, luhn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

__all__ = [
    "CUSTOM",
    "BicRecognizer",
    "ChecksumRecognizer",
    "DigitGatedPhoneRecognizer",
    "EuVatRecognizer",
    "InternalEmailRecognizer",
    "LooseIbanRecognizer",
    "LoosePhoneRecognizer",
    "LuhnCardRecognizer",
    "NationalIdRecognizer",
    "PassportRecognizer",
    "result_of",
]


def result_of(recognizer: EntityRecognizer, entity: str, start: int, end: int, score: float) -> RecognizerResult:
    """A result tagged with its recognizer, which Presidio's context enhancer needs to find the context words."""
    metadata = {
        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    return RecognizerResult(entity, start, end, score, recognition_metadata=metadata)


class ChecksumRecognizer(PatternRecognizer):
    """A pattern recognizer whose matches must pass ``check``.

    ``PROOF`` says whether a passing checksum is proof enough for a full score
    (validate_result True -> 1.0) or only a gate (None -> keep the pattern score).
    """

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[list[Pattern]]
    CONTEXT: ClassVar[list[str]]
    PROOF: ClassVar[bool] = False

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=list(self.CONTEXT),
        )

    def check(self, value: str) -> bool:
        raise NotImplementedError

    def validate_result(self, pattern_text: str) -> bool | None:
        if not self.check(pattern_text):
            return False
        return True if self.PROOF else None


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def _stdnum_valid(validator: Callable[[str], object], value: str) -> bool:
    try:
        validator(value)
    except StdnumError:
        return False
    return True


class LuhnCardRecognizer(ChecksumRecognizer):
    """12-19 digit card numbers (any issuer: Mastercard 2-series, 19-digit Visa, 15-digit JCB, Maestro) with Luhn."""

    ENTITY = "CREDIT_CARD"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("card 4-4-4-4 grouped", r"(?<![\w-])\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}(?![\w-])", 0.6),
        Pattern("card digits", r"(?<![\w-])\d{13,19}(?![\w-])", 0.5),
        Pattern("card 4-6-5 grouped", r"(?<![\w-])\d{4}([ -])\d{6}\1\d{4,5}(?![\w-])", 0.5),
        Pattern("card 12 digits (Maestro)", r"(?<![\w-])\d{12}(?![\w-])", 0.1),  # needs a context word
    ]
    CONTEXT: ClassVar[list[str]] = ["card", "credit", "visa", "mastercard", "amex", "cc", "debit", "pan"]
    PROOF = False

    def check(self, value: str) -> bool:
        digits = re.sub(r"\D", "", value)
        return 12 <= len(digits) <= 19 and luhn.is_valid(digits)


class InternalEmailRecognizer(ChecksumRecognizer):
    """E-mail addresses on any domain, incl. ``.local``/``.corp``/``.example`` that Presidio's PSL check rejects."""

    ENTITY = "EMAIL_ADDRESS"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("email plain", r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+(?![\w-])", 0.7),
    ]
    CONTEXT: ClassVar[list[str]] = ["email", "e-mail", "mail", "contact"]

    def check(self, value: str) -> bool:
        local, _, domain = value.rpartition("@")
        return bool(local) and not local.startswith(".") and ".." not in value and not domain.endswith(".")


class LooseIbanRecognizer(PatternRecognizer):
    """IBANs in any case and spacing ("my iban is gb42nawi0445..."), proven by the mod-97 check.

    A regex cannot tell where a spaced IBAN ends ("... 0130 00 paid" vs "...
    0130 paid"), so each candidate is cut back group by group until the
    checksum passes.
    """

    ENTITY = "IBAN_CODE"
    CANDIDATE = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{1,4}){3,8}(?!\w)")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name="LooseIbanRecognizer",
            supported_language=supported_language,
            patterns=[Pattern("iban any case", self.CANDIDATE.pattern, 1.0)],
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = []
        for match in self.CANDIDATE.finditer(text):
            parts = match.group().split(" ")
            for count in range(len(parts), 0, -1):
                value = " ".join(parts[:count])
                if iban.is_valid(_compact(value)):
                    results.append(result_of(self, self.ENTITY, match.start(), match.start() + len(value), 1.0))
                    break
        return results


_DATE_LIKE = re.compile(r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})$")


def _shortest_phone_number() -> int:
    """The fewest digits any number phonenumbers calls valid can have: the shortest national number of any
    region or non-geographic code in its metadata (a country code only adds digits)."""
    metadata = [phonenumbers.PhoneMetadata.metadata_for_region(region) for region in phonenumbers.SUPPORTED_REGIONS]
    metadata += [
        phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code)
        for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    return min(length for data in metadata if data for length in data.general_desc.possible_length if length > 0)


class DigitGatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's ``PhoneRecognizer`` (what pii.yaml's ``PhoneRecognizer`` loads), answering at once for a text with
    too few digits to hold a phone number.

    Presidio runs python-phonenumbers' matcher once per region, eight by default: ~0.8 ms per short field value,
    about half of what masking a document's fields cost the worker. A number phonenumbers finds is made of
    decimal digits and is valid only with a national number of at least ``_shortest_phone_number()`` of them, so
    a text with fewer has none and the answer is the same (tests/pii/test_pii_recognizers.py checks it).
    """

    MIN_DIGITS: ClassVar[int] = _shortest_phone_number()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if sum(char.isdecimal() for char in text) < self.MIN_DIGITS:
            return []
        return super().analyze(text, entities, nlp_artifacts)


class LoosePhoneRecognizer(ChecksumRecognizer):
    """Phone numbers in the many national groupings phonenumbers rejects without a region ("78 651 450").

    Grouped digits alone are weak evidence (amounts, ids), so they need a
    context word; an international prefix or an area code in parentheses is
    stronger on its own.
    """

    ENTITY = "PHONE_NUMBER"
    _EXT = r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?"
    _END = r"(?!\w|-\d)"  # "8211-Office" ends a number, "8211-12" does not
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "phone international",
            rf"(?<![\w+])(?:\+|00)\d{{1,3}}[ .-]?(?:\(0?\d{{1,4}}\)[ .-]?)?"  # +46 (0)8
            rf"\d{{1,4}}(?:[ .-]?\d{{1,5}}){{1,4}}{_EXT}(?!\w)",
            0.5,
        ),
        Pattern("phone (area)", rf"(?<!\w)\(\d{{1,4}}\)[ .-]?\d{{2,4}}(?:[ .-]?\d{{2,4}}){{1,3}}{_EXT}(?!\w)", 0.45),
        Pattern("phone grouped", rf"(?<![\w.+-])\d{{2,4}}(?:[ .-]\d{{2,6}}){{1,4}}{_EXT}{_END}", 0.2),
        Pattern("phone digits", rf"(?<![\w.+-])\d{{10,11}}{_END}", 0.2),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "phone", "telephone", "tel", "mobile", "cell", "fax", "call", "office", "desk", "contact", "number",
        "answering", "reach", "dial", "messages", "sms", "text", "registered", "whatsapp", "home", "work",
    ]  # fmt: skip

    def check(self, value: str) -> bool:
        digits = re.sub(r"\D", "", value.split("x")[0].split("ext")[0])
        return 6 <= len(digits) <= 15 and len(set(digits)) > 1 and not _DATE_LIKE.match(value.strip())


class EuVatRecognizer(ChecksumRecognizer):
    """EU VAT ids (country prefix + number), checked with python-stdnum's per-country check digits."""

    ENTITY = "VAT_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "eu vat",
            r"(?-i:\b(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
            r"[ ]?[0-9A-Z](?:[0-9A-Z. ]{5,13})[0-9A-Z]\b)",
            0.3,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["vat", "ust", "ustid", "tva", "iva", "btw", "tax"]
    PROOF = True

    def check(self, value: str) -> bool:
        return _stdnum_valid(eu_vat.validate, _compact(value))


class BicRecognizer(ChecksumRecognizer):
    """BIC/SWIFT codes (upper case, valid country). Gate only: 8 capitals are too common to trust alone."""

    ENTITY = "BIC"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("bic", r"(?-i:\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b)", 0.1),
    ]
    CONTEXT: ClassVar[list[str]] = ["bic", "swift", "bank"]

    def check(self, value: str) -> bool:
        return _stdnum_valid(bic.validate, value)


class PassportRecognizer(ChecksumRecognizer):
    """Passport numbers in the common ICAO shapes; no public checksum outside the MRZ, so context is required."""

    ENTITY = "PASSPORT"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("passport letters+digits", r"\b[A-Z]{1,2}\d{6,8}\b", 0.1),
        Pattern("passport 9 chars", r"\b[A-Z0-9]{9}\b", 0.05),
    ]
    CONTEXT: ClassVar[list[str]] = ["passport", "travel", "document"]

    def check(self, value: str) -> bool:
        return any(char.isdigit() for char in value)


_NATIONAL_ID_SCHEMES = (
    "nl.bsn", "pl.pesel", "es.dni", "es.nie", "it.codicefiscale", "fr.nir", "se.personnummer", "fi.hetu",
    "be.nn", "de.idnr", "dk.cpr", "us.ssn",
)  # fmt: skip


def _national_id_validators() -> list[Callable[[str], object]]:
    """Personal-id schemes of python-stdnum with a check digit; a value must pass at least one."""
    return [importlib.import_module(f"stdnum.{scheme}").validate for scheme in _NATIONAL_ID_SCHEMES]


class NationalIdRecognizer(ChecksumRecognizer):
    """National personal ids (BSN, PESEL, DNI/NIE, codice fiscale, NIR, personnummer, HETU, ...) near a label."""

    ENTITY = "NATIONAL_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("national id token", r"(?<![\w-])[0-9A-Z][0-9A-Z .\-+]{6,20}[0-9A-Z](?![\w-])", 0.1),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "national", "identity", "id", "bsn", "pesel", "dni", "nie", "fiscale", "nir", "personnummer",
        "hetu", "idnr", "steuer", "cpr", "identification",
    ]  # fmt: skip

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language)
        self._validators = _national_id_validators()

    def check(self, value: str) -> bool:
        compact = value.strip()
        if sum(char.isdigit() for char in compact) < 5:  # every listed scheme has 5+ digits; skips most words cheaply
            return False
        return any(_stdnum_valid(validator, compact) for validator in self._validators)


CUSTOM: dict[str, type[EntityRecognizer]] = {
    "luhn_card": LuhnCardRecognizer,
    "loose_iban": LooseIbanRecognizer,
    "loose_phone": LoosePhoneRecognizer,
    "internal_email": InternalEmailRecognizer,
    "eu_vat": EuVatRecognizer,
    "bic": BicRecognizer,
    "passport": PassportRecognizer,
    "national_id": NationalIdRecognizer,
}
"""Recognizers ``pii.yaml`` can name in ``custom_recognizers``; the label recognizer has its own switch."""
