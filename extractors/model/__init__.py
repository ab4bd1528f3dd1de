"""The trained model tier: candidate spans, features, a gradient-boosted scorer per field, calibration.

Runs on the CPU from weights shipped as package data (``data/``), trained by
``scripts/train_extractor.py``; nothing is downloaded. ``read_fields`` is
what the router calls.
"""

from __future__ import annotations

from docval.domain import ExtractedField, Tier
from extractors.model.scorer import FieldModel, ModelError, load_model
from extractors.model.tier import calibrated, read_by_ocr, route
from extractors.rules import PageLike

__all__ = ["FieldModel", "ModelError", "load_model", "read_fields"]


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
