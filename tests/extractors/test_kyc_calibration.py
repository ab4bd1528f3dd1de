"""A KYC form's confidences are probabilities too: the rules' scores read through ``kyc:`` curves (issue 14, item 3).

The model reads no KYC field, so before these curves a KYC field kept the
rules' own score (0.8 for a value under its caption), whatever that meant.
The curves are fitted by ``scripts/train_extractor.py`` on generated forms in
KYC layouts 0-2, text and scanned; here a form in layout 3 goes through the
appliance's router and its confidences must be the curves' reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docval.domain import DocKind, ExtractedField, Tier
from docval.settings import Settings
from extractors.extract import extract
from extractors.kyc_forms import generate_kyc
from extractors.model import calibrated_kyc, load_model
from extractors.model.calibration import KYC, OCR, OCR_FALLBACK_CAP, Calibration, fit_calibration
from extractors.model.scorer import FieldModel
from extractors.pdf import PageText, load_pdf
from extractors.router import Router
from extractors.schemas import field_names


def test_the_shipped_calibration_has_kyc_curves_for_text_and_scans() -> None:
    curves = load_model().calibration.curves
    for name in field_names(DocKind.KYC_FORM):
        assert KYC + name in curves, name
    assert any(key.startswith(OCR + KYC) for key in curves)


def test_a_kyc_form_is_calibrated_on_its_curves_and_the_version_recorded(tmp_path: Path) -> None:
    settings = Settings()
    form = generate_kyc(17, 1, layouts=(3,))[0]
    path = tmp_path / form.name
    path.write_bytes(form.pdf)
    document = load_pdf(path, settings.extract)
    raw = extract(document, Router.rules_only(settings))
    routed = extract(document, Router.from_settings(settings))
    calibration = load_model().calibration
    assert routed.kind is DocKind.KYC_FORM
    assert routed.prompt_versions["calibration"] == calibration.version
    assert routed.fields.keys() == raw.fields.keys()
    for name, field in raw.fields.items():
        expected = round(calibration.probability(KYC + name, field.confidence), 4)
        assert routed.fields[name].confidence == expected, name
        assert routed.fields[name].value == field.value


def test_a_value_ocr_doubted_stays_under_auto_acceptance() -> None:
    always_right = [(0.8, True, 1.0)] * 40
    calibration = fit_calibration({OCR + KYC + "full_name": always_right, OCR + KYC + "email": always_right})
    model = FieldModel({}, Calibration(calibration.curves), "test")
    text = "Nom complet: Anna Rossi\nCourriel: anna@example.com"
    page = PageText(number=1, text=text, source="ocr", words=((13, 17, 95.0), (18, 23, 41.0), (34, 50, 96.0)))
    fields = {
        "full_name": ExtractedField(value="Anna Rossi", confidence=0.8, tier=Tier.RULES, page=1, span=(13, 23)),
        "email": ExtractedField(value="anna@example.com", confidence=0.8, tier=Tier.RULES, page=1, span=(34, 50)),
    }
    got = calibrated_kyc(model, [page], fields)
    assert got["email"].confidence == pytest.approx(1.0)
    assert got["full_name"].confidence == OCR_FALLBACK_CAP  # 'Rossi' was read at 41
