"""The trained tier inside the router: per field, keep the rules where they are certain, else ask the model.

Decisions are made on calibrated probabilities, in two stages fitted on
held-out folds. Stage one gives each reader alone a probability
(``rules:FIELD``, ``model:FIELD``); the rules' answer stands when it is
certain (≥ ``CERTAIN``), otherwise the model's answer is compared with it.
Stage two is the probability of the answer the router finally returns, for
how it came about: both readers agreed (``agree:FIELD``; scored as if their
errors were independent, 1 − (1 − p_rules)(1 − p_model), so two fairly sure
readers that agree land above either alone, and the curve measures how far
that holds; the higher of the two alone left agreements in thin, noisy
bins between the single readers' levels), only the model
answered (``model_only:FIELD``), or they disagreed and one was preferred
(``rules_won:FIELD``, ``model_won:FIELD``). Fields the model does not read
keep the rules' answer with its stage-one probability.
"""

from __future__ import annotations

from dataclasses import dataclass

from docval.domain import ExtractedField, Tier
from extractors.matching import matches
from extractors.model.calibration import Calibration
from extractors.model.candidates import FIELD_KINDS
from extractors.model.scorer import Prediction

__all__ = ["CERTAIN", "NO_ANSWER", "Routed", "calibrated", "route"]

CERTAIN = 0.99  # a rules answer at least this likely to be right is not second-guessed
NO_ANSWER = 0.05  # a field's model-only answers never more often right than this are no answers


@dataclass(frozen=True)
class Routed:
    """One field's answer before its final calibration: which reader, how it came about, and the raw score."""

    field: ExtractedField
    source: str  # rules | agree | model_only | rules_won | model_won
    score: float  # stage-one probability the final curve is applied to


def route(
    rules: dict[str, ExtractedField], predictions: dict[str, Prediction], calibration: Calibration
) -> dict[str, Routed]:
    """Every field's answer and provenance (uncalibrated in stage two; see ``calibrated``)."""
    routed = {}
    for name, field in rules.items():
        if isinstance(field.value, list):
            routed[name] = Routed(field, "rules", field.confidence)
            continue
        routed[name] = Routed(field, "rules", calibration.probability(f"rules:{name}", field.confidence))
    for name in FIELD_KINDS:
        guess = predictions.get(name)
        if guess is None:
            continue
        model_p = calibration.probability(f"model:{name}", guess.score)
        answer = ExtractedField(
            value=guess.value, confidence=model_p, tier=Tier.LOCAL, page=guess.page, span=guess.span
        )
        current = routed.get(name)
        if current is None:
            routed[name] = Routed(answer, "model_only", model_p)
        elif current.score >= CERTAIN and current.field.tier is Tier.RULES:
            continue
        elif matches(name, str(guess.value), str(current.field.value)):
            routed[name] = Routed(current.field, "agree", 1 - (1 - model_p) * (1 - current.score))
        elif model_p > current.score:
            routed[name] = Routed(answer, "model_won", model_p)
        else:
            routed[name] = Routed(current.field, "rules_won", current.score)
    return routed


def calibrated(routed: dict[str, Routed], calibration: Calibration) -> dict[str, ExtractedField]:
    """The fields with their final confidence: stage two's curve for how each answer came about.

    A field whose model-only answers were right on held-out documents at no score (calibrated ceiling below
    ``NO_ANSWER``) gets none: there the model's best guess is one for a field the page does not print (an
    invoice without a due date), not a reading. A low but real probability is kept for a person to check."""
    fields = {}
    for name, answer in routed.items():
        if answer.source == "rules":
            confidence = answer.score
        else:
            confidence = calibration.probability(f"{answer.source}:{name}", answer.score)
        if answer.source == "model_only" and calibration.ceiling(f"model_only:{name}") < NO_ANSWER:
            continue
        fields[name] = answer.field.model_copy(update={"confidence": round(confidence, 4)})
    return fields
