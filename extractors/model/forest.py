"""A trained gradient-boosted classifier scored in a few array operations, with exactly scikit-learn's numbers.

scikit-learn's ``HistGradientBoostingClassifier.predict_proba`` walks its trees one at a time: a Python loop
over ~200 trees per field, each a call into an OpenMP region, for the few dozen candidates a document has.
That per-tree overhead, not the arithmetic, was ~10 ms CPU per real PDF (benchmarks/README.md,
stage_bench.py); scikit-learn's OpenMP threads made it far worse (540 ms with two threads) until scoring was
held to one. Here all trees are flattened into one node table and every (tree, candidate) pair descends one
level per step, all pairs at once, so a field costs a tree depth's worth of array operations.

The numbers are scikit-learn's, bit for bit: the same tree walk (missing values follow the node's
``missing_go_to_left``; a value goes left when ``<=`` the threshold), the leaves summed in the same order onto
the same baseline (``cumsum`` is sequential by definition, where ``sum`` may pair terms), the same logistic
function. ``tests/extractors/test_forest.py`` compares the two on every shared PDF's candidates. Models with
categorical features or more than one tree per iteration (multi-class) are refused, as the walk does not
cover them.

The flat arrays are also what ships (``arrays`` / ``from_arrays``): loading them needs NumPy only, not
scikit-learn, whose import was most of the model's load (~0.8 s CPU in each process that reads documents), and
plain arrays, unlike a pickle, cannot run code when they are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

__all__ = ["Forest"]


@dataclass(frozen=True)
class Forest:
    """One binary classifier's trees as flat arrays; node ``i``'s children are indices into the same arrays."""

    roots: np.ndarray  # each tree's root node
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    baseline: float

    @classmethod
    def of(cls, classifier: HistGradientBoostingClassifier) -> Forest:
        """``classifier``'s trees, flattened; raises ``ValueError`` for a model this walk would score wrongly."""
        if classifier.n_trees_per_iteration_ != 1 or classifier.is_categorical_ is not None:
            raise ValueError("only binary classifiers on numeric features can be flattened")
        trees = [predictors[0].nodes for predictors in classifier._predictors]
        sizes = np.array([len(nodes) for nodes in trees])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(trees)
        shift = np.repeat(starts, sizes)  # a tree's child indices are relative to its own first node
        return cls(
            roots=starts,
            feature=nodes["feature_idx"].astype(np.intp),
            threshold=nodes["num_threshold"],
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=nodes["left"].astype(np.intp) + shift,
            right=nodes["right"].astype(np.intp) + shift,
            leaf=nodes["is_leaf"].astype(bool),
            value=nodes["value"],
            baseline=float(classifier._baseline_prediction[0, 0]),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The forest as named arrays (the baseline as a 0-d one), for ``np.savez``-style storage."""
        return {part.name: np.asarray(getattr(self, part.name)) for part in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Forest:
        """The forest ``arrays`` stored; raises ``KeyError`` when a part is missing."""
        parts = {part.name: arrays[part.name] for part in fields(cls)}
        return cls(**{**parts, "baseline": float(parts["baseline"])})

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """The positive class's probability per row, as ``predict_proba(matrix)[:, 1]`` gives it."""
        rows = np.asarray(matrix, dtype=np.float64)  # scikit-learn scores float64 too
        count = len(rows)
        node = np.repeat(self.roots, count)  # tree-major: pair k is tree k // count, row k % count
        row = np.tile(np.arange(count), len(self.roots))
        walking = np.flatnonzero(~self.leaf[node])
        while walking.size:
            at = node[walking]
            values = rows[row[walking], self.feature[at]]
            go_left = np.where(np.isnan(values), self.missing_left[at], values <= self.threshold[at])
            at = np.where(go_left, self.left[at], self.right[at])
            node[walking] = at
            walking = walking[~self.leaf[at]]
        leaves = self.value[node].reshape(len(self.roots), count)
        raw = np.cumsum(np.vstack([np.full((1, count), self.baseline), leaves]), axis=0)[-1]
        return expit(raw)
