"""The trained field scorer: one gradient-boosted classifier per field ranks that field's candidates.

Weights ship as package data (``data/fields.pkl`` + ``data/fields.json``), are
checked against the SHA-256 the JSON records, and load once per process on
first use. A field's answer is its best-scoring candidate; its confidence is
the calibrated probability that the answer is right (``calibration.py``).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier

from docval.domain import ExtractedField
from docval.errors import DocvalError
from extractors.model.calibration import Calibration
from extractors.model.candidates import FIELD_KINDS, Candidate, candidates
from extractors.model.features import FEATURE_NAMES, feature_matrix
from extractors.model.forest import Forest
from extractors.model.joint import TOTALS, joint_totals
from extractors.rules import PageLike

__all__ = [
    "FIELD_KINDS",
    "FieldModel",
    "ModelError",
    "Prediction",
    "fit_field",
    "load_model",
    "read_model",
    "save_model",
]

_DATA = "data"


class ModelError(DocvalError):
    """The shipped weights are missing, altered, or were trained with another scikit-learn."""


@dataclass(frozen=True)
class Prediction:
    value: str
    score: float  # the classifier's probability for the best candidate (uncalibrated)
    page: int
    span: tuple[int, int]


@dataclass
class FieldModel:
    """Per-field classifiers plus the calibration that turns scores into probabilities of being right."""

    classifiers: dict[str, HistGradientBoostingClassifier]
    calibration: Calibration
    version: str
    _forests: dict[str, Forest] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._forests = {name: Forest.of(classifier) for name, classifier in self.classifiers.items()}

    def predict(self, pages: list[PageLike], rules: Mapping[str, ExtractedField]) -> dict[str, Prediction]:
        """The best candidate per field (fields without any candidate of their kind are left out); the rules'
        answers are features (a candidate the rules also chose, and how sure they were). Scored by each
        classifier's flattened trees (``forest.py``: scikit-learn's numbers at a fraction of its cost). The three
        totals are read together: the best triple that adds up, where one of plausible amounts does (``joint.py``)."""
        found = candidates(pages)
        matrix = feature_matrix(found, rules)
        rows: dict[str, list[int]] = {}
        scores: dict[str, np.ndarray] = {}
        for name, forest in self._forests.items():
            rows[name] = [i for i, c in enumerate(found) if c.kind == FIELD_KINDS[name]]
            if rows[name]:
                scores[name] = forest.probability(matrix[rows[name]])
        best = {name: int(np.argmax(field_scores)) for name, field_scores in scores.items()}
        amounts = [Decimal(found[i].value) for i in rows.get(TOTALS[0], [])]
        best.update(joint_totals(amounts, scores) or {})  # the totals' rows are the same amount candidates
        answers = {}
        for name, index in best.items():
            chosen: Candidate = found[rows[name][index]]
            answers[name] = Prediction(chosen.value, float(scores[name][index]), chosen.page, chosen.span)
        return answers


def fit_field(matrix: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    """One field's classifier; fixed seed and a single thread-independent algorithm, so a rerun is identical."""
    classifier = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, max_leaf_nodes=31, l2_regularization=1.0, random_state=seed
    )
    return classifier.fit(matrix, labels, sample_weight=weights)


def save_model(model: FieldModel, folder: Path, info: dict[str, object]) -> None:
    """Weights as a pickle, and beside them its SHA-256, the versions, the calibration and how it was trained."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = pickle.dumps(model.classifiers, protocol=5)
    (folder / "fields.pkl").write_bytes(weights)
    meta = {
        "version": model.version,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "sklearn": sklearn.__version__,
        "features": list(FEATURE_NAMES),
        "calibration": model.calibration.to_json(),
        "training": info,
    }
    (folder / "fields.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@cache
def load_model() -> FieldModel:
    """The shipped model, read and verified once per process."""
    return read_model(Path(str(resources.files("extractors.model") / _DATA)))


def read_model(folder: Path) -> FieldModel:
    """Weights and calibration from ``folder``, refused unless the weights are the ones ``fields.json`` names."""
    try:
        meta = json.loads((folder / "fields.json").read_text(encoding="utf-8"))
        weights = (folder / "fields.pkl").read_bytes()
    except FileNotFoundError:
        raise ModelError("no trained weights in extractors/model/data: run scripts/train_extractor.py") from None
    if hashlib.sha256(weights).hexdigest() != meta["weights_sha256"]:
        raise ModelError("extractors/model/data/fields.pkl does not match fields.json: retrain or reinstall")
    if meta["sklearn"] != sklearn.__version__ or meta["features"] != list(FEATURE_NAMES):
        raise ModelError(
            f"weights trained with scikit-learn {meta['sklearn']} and other features: retrain with "
            "scripts/train_extractor.py"
        )
    classifiers = pickle.loads(weights)
    return FieldModel(classifiers, Calibration.from_json(meta["calibration"]), meta["version"])
