"""Which kind of document is this? Deterministic keyword evidence, multilingual, with a confidence.

A model is not needed to tell an invoice from an onboarding form: both are
full of words that name their purpose. Each kind has weighted cues (a title
such as "Rechnung" weighs more than a word such as "total"); the kind with
the most evidence wins if it clears a minimum, else the document is ``other``
and goes to a person. The confidence grows with the evidence and with the
margin over the runner-up, so a form that mentions an IBAN stays a form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from docval.domain import DocKind

__all__ = ["Classification", "classify"]

# Cue regex (over accent-folded lower-case text) -> weight. Each cue counts at most three times.
_CUES: dict[DocKind, dict[str, float]] = {
    DocKind.INVOICE: {
        r"\b(?:invoice|rechnung|facture|factuur|fattura|factura|faktura|beitragsrechnung)\b": 3.0,
        r"\b(?:gutschrift|credit note|nota di credito|factura rectificativa|nota de credito|creditnota|avoir)\b": 3.0,
        r"\b(?:rechnungsnummer|invoice (?:number|no)|facture n|factuurnummer|rechnungsdatum|invoice date)": 3.0,
        r"(?:rechnungs-?korrektur|warenrechnung|w a r e n r e c h n u n g|beleg-?nr|beleg-?datum)": 3.0,
        r"\b(?:total|totaal|summe|gesamtbetrag|montant|amount due|balance due|grand total|subtotal)\b": 1.0,
        r"\b(?:totale|importe|imponibile|base imponible)\b": 1.0,
        r"\b(?:vat|mwst|ust|tva|btw|iva|sales tax|gst|umsatzsteuer)\b": 1.0,
        r"\b(?:net|netto|brutto|ttc|ht)\b": 0.5,
        r"\b(?:iban|bic|swift|payment terms|zahlbar|due date|receipt)\b": 0.5,
    },
    DocKind.KYC_FORM: {
        r"\b(?:know your customer|kyc|customer due diligence|onboarding|account opening|kundenstammblatt)\b": 4.0,
        r"\b(?:identifizierung des vertragspartners|connaissance client|ouverture de compte|klantidentificatie)": 4.0,
        r"\b(?:adeguata verifica|apertura (?:del )?conto|identificacion del cliente|apertura de cuenta)\b": 4.0,
        r"\b(?:aanvraag rekening|rekening openen)\b": 4.0,
        r"\b(?:date of birth|birth date|dob|geburtsdatum|geboren (?:am|op)|date de naissance|nee? le)\b": 3.0,
        r"\b(?:geboortedatum|data di nascita|nato/a il|fecha de nacimiento|nacido/a el)\b": 3.0,
        r"\b(?:place of birth|geburtsort|lieu de naissance|geboorteplaats|luogo di nascita|lugar de nacimiento)\b": 3.0,
        r"\b(?:passport|reisepass|passeport|paspoort|passaporto|pasaporte|identity card|id card)": 2.0,
        r"\b(?:identifikationsnummer|identificatienummer|numero identificativo|numero de identificacion)\b": 2.0,
        r"\b(?:national id|personalausweis|carte d'identite|identiteitskaart|carta d'identita)": 2.0,
        r"\b(?:documento de identidad)": 2.0,
        r"\b(?:social security|national insurance|securite sociale|burgerservicenummer|codice fiscale|dni)\b": 2.0,
        r"\b(?:nationality|staatsangehorigkeit|nationalite|nationaliteit|cittadinanza|nacionalidad|citizenship)\b": 2.0,
        r"\b(?:country of residence|wohnsitzland|pays de residence|land van verblijf|paese di residenza)\b": 2.0,
        r"\b(?:pais de residencia)\b": 2.0,
        r"\b(?:politically exposed|source of funds|source of wealth|occupation|beneficial owner)\b": 2.0,
        r"\b(?:applicant|full name|signature of applicant|residential address|vollstandiger name|nom complet)\b": 1.0,
        r"\b(?:volledige naam|nome e cognome|nombre completo|nombre y apellidos|surname|last name|nachname)\b": 1.0,
        r"\b(?:vornamen?|prenoms?|achternaam|geslachtsnaam|voorna(?:am|men)|cognome|apellidos)\b": 1.0,
    },
}
_MINIMUM_EVIDENCE = 4.0
_MAX_HITS_PER_CUE = 3
_COMPILED = {kind: [(re.compile(cue), weight) for cue, weight in cues.items()] for kind, cues in _CUES.items()}


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DocKind
    confidence: float = Field(ge=0, le=1)
    scores: dict[DocKind, float]


def _fold(text: str) -> str:
    """Lower-case, accents off, and ``_`` read as a space: ``\\b`` counts ``_`` as a letter, and OCR reads a
    scan's specks and ruled lines as underscores glued to words (``_FACTUUR``), which would hide the title."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return folded.replace("_", " ")


def _score(text: str, kind: DocKind) -> float:
    return sum(weight * min(len(pattern.findall(text)), _MAX_HITS_PER_CUE) for pattern, weight in _COMPILED[kind])


def classify(page_texts: Iterable[str]) -> Classification:
    """Kind of the document whose page texts are given; ``other`` when no kind has enough evidence."""
    text = _fold("\n".join(page_texts))
    scores = {kind: _score(text, kind) for kind in _CUES}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (top_kind, top), (_, runner_up) = ranked[0], ranked[1]
    if top < _MINIMUM_EVIDENCE:
        confidence = 1.0 - top / _MINIMUM_EVIDENCE / 2  # little evidence for anything: fairly sure it is "other"
        return Classification(kind=DocKind.OTHER, confidence=round(confidence, 3), scores=scores)
    margin = (top - runner_up) / top
    strength = min(top / (3 * _MINIMUM_EVIDENCE), 1.0)
    confidence = 0.5 + 0.5 * margin * strength
    return Classification(kind=top_kind, confidence=round(confidence, 3), scores=scores)
