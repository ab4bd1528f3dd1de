"""The flattened trees score every candidate exactly as scikit-learn does (``extractors/model/forest.py``).

The trained tier's answers and calibrated confidences rest on these numbers, so equality is bit for bit, on the
candidates of every shared ZUGFeRD PDF and on the same rows with missing values and values sitting exactly on
split thresholds (where ``<=`` against ``<`` would show).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.model.candidates import FIELD_KINDS, candidates
from extractors.model.features import feature_matrix
from extractors.model.forest import Forest
from extractors.model.scorer import load_model
from extractors.pdf import load_pdf
from extractors.rules import extract_rules

LIMITS = ExtractSettings(ocr_enabled=False)


def _field_rows(shared_data: Path) -> list[tuple[str, np.ndarray]]:
    """(field, its candidates' feature rows) for every shared ZUGFeRD PDF and every field with candidates."""
    jobs = []
    for path in sorted((shared_data / "zugferd" / "pdfs").rglob("*.pdf")):
        pages = load_pdf(path, LIMITS).pages
        found = candidates(pages)
        matrix = feature_matrix(found, extract_rules(pages, DocKind.INVOICE))
        for name, kind in FIELD_KINDS.items():
            rows = [index for index, candidate in enumerate(found) if candidate.kind == kind]
            if rows:
                jobs.append((name, matrix[rows]))
    return jobs


@pytest.fixture(scope="module")
def field_rows(shared_data: Path) -> list[tuple[str, np.ndarray]]:
    return _field_rows(shared_data)


def test_flattened_trees_score_real_candidates_as_scikit_learn_does(field_rows: list[tuple[str, np.ndarray]]) -> None:
    model = load_model()
    assert len(field_rows) > 300  # every field of 58 documents, nearly
    for name, rows in field_rows:
        forest = Forest.of(model.classifiers[name])
        assert np.array_equal(forest.probability(rows), model.classifiers[name].predict_proba(rows)[:, 1]), name


def test_missing_values_and_values_on_thresholds_take_scikit_learns_branch(
    field_rows: list[tuple[str, np.ndarray]],
) -> None:
    model = load_model()
    rng = np.random.default_rng(14)
    for name, rows in field_rows[::7]:
        classifier = model.classifiers[name]
        forest = Forest.of(classifier)
        thresholds = forest.threshold[~forest.leaf]
        edited = rows.astype(np.float64)
        on_split = rng.random(edited.shape) < 0.3
        edited[on_split] = rng.choice(thresholds, size=int(on_split.sum()))
        edited[rng.random(edited.shape) < 0.1] = np.nan
        assert np.array_equal(forest.probability(edited), classifier.predict_proba(edited)[:, 1]), name


def test_a_model_the_walk_does_not_cover_is_refused() -> None:
    rng = np.random.default_rng(0)
    matrix, labels = rng.random((60, 3)), np.arange(60) % 3
    three_classes = HistGradientBoostingClassifier(max_iter=3).fit(matrix, labels)
    with pytest.raises(ValueError, match="binary"):
        Forest.of(three_classes)
