"""The flattened trees score every candidate exactly as scikit-learn does (``extractors/model/forest.py``).

The trained tier's answers and calibrated confidences rest on these numbers, so equality is bit for bit, on the
candidates of every shared ZUGFeRD PDF and on the same rows with missing values and values sitting exactly on
split thresholds (where ``<=`` against ``<`` would show). The classifiers compared are fitted here, with the
shipped model's settings (``train.fit_field``), on those candidates: only the flattened trees ship. The trees
survive storage as arrays bit for bit, and reading the shipped ones never imports scikit-learn.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from docval.domain import DocKind
from docval.settings import ExtractSettings
from extractors.model.calibration import Calibration
from extractors.model.candidates import FIELD_KINDS, candidates
from extractors.model.features import feature_matrix
from extractors.model.forest import Forest
from extractors.model.scorer import FieldModel, read_model, save_model
from extractors.model.train import fit_field
from extractors.pdf import load_pdf
from extractors.rules import extract_rules

LIMITS = ExtractSettings(ocr_enabled=False)
REPO = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="module")
def classifiers(field_rows: list[tuple[str, np.ndarray]]) -> dict[str, HistGradientBoostingClassifier]:
    """Per field, a classifier fitted as the shipped ones are, on all its real candidates with seeded labels (the
    walk is what is tested, so any labels that grow full trees over real feature values will do)."""
    rng = np.random.default_rng(7)
    fitted = {}
    for name in FIELD_KINDS:
        rows = [matrix for field, matrix in field_rows if field == name]
        if rows:
            matrix = np.vstack(rows)
            labels = (rng.random(len(matrix)) < 0.3).astype(int)
            fitted[name] = fit_field(matrix, labels, np.ones(len(matrix)), seed=14)
    return fitted


def test_flattened_trees_score_real_candidates_as_scikit_learn_does(
    field_rows: list[tuple[str, np.ndarray]], classifiers: dict[str, HistGradientBoostingClassifier]
) -> None:
    assert len(field_rows) > 300  # every field of 58 documents, nearly
    for name, rows in field_rows:
        forest = Forest.of(classifiers[name])
        assert np.array_equal(forest.probability(rows), classifiers[name].predict_proba(rows)[:, 1]), name


def test_missing_values_and_values_on_thresholds_take_scikit_learns_branch(
    field_rows: list[tuple[str, np.ndarray]], classifiers: dict[str, HistGradientBoostingClassifier]
) -> None:
    rng = np.random.default_rng(14)
    for name, rows in field_rows[::7]:
        classifier = classifiers[name]
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


def test_saved_trees_read_back_score_bit_for_bit(
    field_rows: list[tuple[str, np.ndarray]], classifiers: dict[str, HistGradientBoostingClassifier], tmp_path: Path
) -> None:
    model = FieldModel.of(classifiers, Calibration(), "fields-test")
    save_model(model, tmp_path, {"seed": 14})
    again = read_model(tmp_path)
    assert again.version == "fields-test" and set(again.forests) == set(classifiers)
    for name, rows in field_rows:
        assert np.array_equal(again.forests[name].probability(rows), classifiers[name].predict_proba(rows)[:, 1])
    save_model(again, tmp_path / "again", {"seed": 14})
    assert (tmp_path / "again" / "fields.npz").read_bytes() == (tmp_path / "fields.npz").read_bytes()


def test_reading_documents_never_imports_scikit_learn() -> None:
    """The shipped model loads with NumPy alone: scikit-learn's import was ~0.8 s CPU in every reading process."""
    code = (
        "import sys; from extractors.model import load_model; from extractors.router import Router; "
        "from docval.settings import Settings; load_model(); Router.from_settings(Settings()); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'sklearn'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
