"""The trained field scorer: one gradient-boosted classifier per field ranks that field's candidates.

Weights ship as package data (``data/fields.npz``: each classifier's trees as
flat arrays, ``forest.py``; ``data/fields.json``: versions, calibration, how it
was trained), are checked against the SHA-256 the JSON records, and load once
per process on first use, with NumPy alone: scikit-learn trains them
(``train.py``) but no process that reads documents imports it. A field's
answer is its best-scoring candidate; its confidence is the calibrated
probability that the answer is right (``calibration.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from docval.domain import ExtractedField
from docval.errors import DocvalError
from extractors.model.calibration import Calibration
from extractors.model.candidates import FIELD_KINDS, Candidate, candidates
from extractors.model.features import FEATURE_NAMES, feature_matrix, names_concept
from extractors.model.forest import Forest
from extractors.model.joint import TOTALS, complete_totals, joint_totals, printed_rates
from extractors.rules import PageLike

__all__ = [
    "FIELD_KINDS",
    "FieldModel",
    "ModelError",
    "Prediction",
    "load_model",
    "read_model",
    "save_model",
]

_DATA = "data"
# Fields an invoice may leave out, and the label concept that names them where it prints one. The model answers
# such a field only on a document that names it somewhere: otherwise its best candidate is another date the page
# prints (a print date, a delivery date), not a reading. On 250 scans of unseen layouts every invoice without a
# due date got one, 24 of them at 0.72 and wrong (benchmarks/README.md, session 24).
_NAMED_WHEN_PRINTED = {"due_date": "due"}


class ModelError(DocvalError):
    """The shipped weights are missing, altered, or were trained on other features."""


@dataclass(frozen=True)
class Prediction:
    value: str
    score: float  # the classifier's probability for the best candidate (uncalibrated)
    page: int
    span: tuple[int, int]
    completed: bool = False  # a total only the arithmetic read (``joint.complete_totals``): never auto-accepted


@dataclass
class FieldModel:
    """Per-field classifiers (their flattened trees) plus the calibration that turns scores into probabilities of
    being right. ``version`` names the trained classifiers (``train.weights_digest``)."""

    forests: dict[str, Forest]
    calibration: Calibration
    version: str

    @classmethod
    def of(cls, classifiers: Mapping[str, object], calibration: Calibration, version: str) -> FieldModel:
        """The model scoring as scikit-learn ``classifiers`` (``HistGradientBoostingClassifier``s) do."""
        return cls({name: Forest.of(classifier) for name, classifier in classifiers.items()}, calibration, version)

    def predict(self, pages: list[PageLike], rules: Mapping[str, ExtractedField]) -> dict[str, Prediction]:
        """The best candidate per field (fields without any candidate of their kind are left out, and an optional
        field on a document that never names it: ``_NAMED_WHEN_PRINTED``); the rules'
        answers are features (a candidate the rules also chose, and how sure they were). Scored by each
        classifier's flattened trees (``forest.py``: scikit-learn's numbers at a fraction of its cost). The three
        totals are read together: the best triple that adds up, where one of plausible amounts does (``joint.py``)."""
        found = candidates(pages)
        matrix = feature_matrix(found, rules)
        rows: dict[str, list[int]] = {}
        scores: dict[str, np.ndarray] = {}
        for name, forest in self.forests.items():
            rows[name] = [i for i, c in enumerate(found) if c.kind == FIELD_KINDS[name]]
            if rows[name]:
                scores[name] = forest.probability(matrix[rows[name]])
        texts = [page.text for page in pages]
        best = {
            name: int(np.argmax(field_scores))
            for name, field_scores in scores.items()
            if name not in _NAMED_WHEN_PRINTED or names_concept(_NAMED_WHEN_PRINTED[name], texts)
        }
        amounts = [Decimal(found[i].value) for i in rows.get(TOTALS[0], [])]
        completed = None
        if (triple := joint_totals(amounts, scores)) is None:  # the totals' rows are the same amount candidates
            rates = printed_rates(texts)
            triple, completed = complete_totals(amounts, scores, rates) or (None, None)
        best.update(triple or {})
        answers = {}
        for name, index in best.items():
            chosen: Candidate = found[rows[name][index]]
            score = float(scores[name][index])
            answers[name] = Prediction(chosen.value, score, chosen.page, chosen.span, completed=name == completed)
        return answers


def save_model(model: FieldModel, folder: Path, info: dict[str, object]) -> None:
    """Weights as arrays (``fields.npz``), and beside them their SHA-256, the versions, the calibration and how
    they were trained (``info``: the training script's settings and library versions)."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = _archive(
        {f"{name}.{part}": array for name, forest in model.forests.items() for part, array in forest.arrays().items()}
    )
    (folder / "fields.npz").write_bytes(weights)
    meta = {
        "version": model.version,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
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
        weights = (folder / "fields.npz").read_bytes()
    except FileNotFoundError:
        raise ModelError(f"no trained weights in {folder}: run scripts/train_extractor.py") from None
    if hashlib.sha256(weights).hexdigest() != meta["weights_sha256"]:
        raise ModelError(f"{folder / 'fields.npz'} does not match fields.json: retrain or reinstall")
    if meta["features"] != list(FEATURE_NAMES):
        raise ModelError("weights trained on other features: retrain with scripts/train_extractor.py")
    parts: dict[str, dict[str, np.ndarray]] = {}
    with np.load(io.BytesIO(weights), allow_pickle=False) as stored:  # "field.part" -> array, as save_model writes
        for key in stored.files:
            name, _, part = key.partition(".")
            parts.setdefault(name, {})[part] = stored[key]
    forests = {name: Forest.from_arrays(arrays) for name, arrays in sorted(parts.items())}
    return FieldModel(forests, Calibration.from_json(meta["calibration"]), meta["version"])


def _archive(arrays: Mapping[str, np.ndarray]) -> bytes:
    """What ``np.savez_compressed`` writes, with fixed member dates: the same arrays give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, array in sorted(arrays.items()):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, member.getvalue())
    return buffer.getvalue()
