"""The trained model tier: candidate spans, features, a gradient-boosted scorer per field, calibration.

Runs on the CPU from weights shipped as package data (``data/``), trained by
``scripts/train_extractor.py``; nothing is downloaded. ``read_fields`` is
what the router calls for invoices; ``calibrated_kyc`` for KYC forms, which the
model does not read but whose rules' confidences go through curves of their
own (``kyc:FIELD``, fitted on generated forms by the same script).
"""

from __future__ import annotations

from docval.domain import ExtractedField, Tier
from extractors.model.calibration import KYC, OCR_FALLBACK_CAP
from extractors.model.scorer import FieldModel, ModelError, load_model
from extractors.model.tier import calibrated, read_by_ocr, route, weakly_read
from extractors.rules import PageLike

__all__ = ["FieldModel", "ModelError", "calibrated_kyc", "load_model", "read_fields"]


def read_fields(
    model: FieldModel, pages: list[PageLike], fields: dict[str, ExtractedField]
) -> dict[str, ExtractedField]:
    """``fields`` with the model's reading of the invoice fields the rules are unsure of, every text field's
    confidence calibrated (on the OCR curves when a page was read by OCR); fields from the embedded e-invoice XML
    are left exactly as they are."""
    xml = {name: field for name, field in fields.items() if field.tier is Tier.EINVOICE}
    text = {name: field for name, field in fields.items() if name not in xml}
    calibration = model.calibration.scoped(read_by_ocr(pages))
    answers = calibrated(route(text, model.predict(pages, text), calibration), calibration, pages)
    return {**answers, **xml}


def calibrated_kyc(
    model: FieldModel, pages: list[PageLike], fields: dict[str, ExtractedField]
) -> dict[str, ExtractedField]:
    """A KYC form's fields with each confidence read through its ``kyc:FIELD`` curve (the OCR one when a page was
    read by OCR), capped under auto-acceptance where OCR doubted a word of the value; fields without a curve keep
    their score."""
    calibration = model.calibration.scoped(read_by_ocr(pages))
    calibrated_fields = {}
    for name, field in fields.items():
        confidence = calibration.probability(KYC + name, field.confidence)
        if weakly_read(field, pages):
            confidence = min(confidence, OCR_FALLBACK_CAP)
        calibrated_fields[name] = field.model_copy(update={"confidence": round(confidence, 4)})
    return calibrated_fields
