"""Confidence as the probability of being right: isotonic curves fitted on held-out folds, per tier and field.

A raw score (the rules' "how it was found" confidence, the classifier's
probability, or the higher one where rules and model agree) goes through the
curve fitted for its ``source:field`` key on documents the model never saw
in training; the result is the measured share of right answers at that
score. Keys without a curve keep their raw score. Reliability and expected
calibration error (ECE) are computed the usual way: ten equal-width bins,
ECE = Σ (bin size / n) · |accuracy − mean confidence|.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.isotonic import IsotonicRegression

__all__ = ["Calibration", "Reliability", "fit_calibration", "reliability"]

_MIN_POINTS = 30  # fewer held-out answers than this give no curve: the raw score is kept


@dataclass
class Calibration:
    """``source:field`` -> an increasing step curve (knots and values), applied by linear interpolation."""

    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def probability(self, key: str, score: float) -> float:
        curve = self.curves.get(key)
        if curve is None:
            return score
        return float(np.interp(score, curve[0], curve[1]))

    def ceiling(self, key: str) -> float:
        """The highest probability the curve gives at any score (1.0 without a curve)."""
        curve = self.curves.get(key)
        return max(curve[1]) if curve else 1.0

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "curves": {key: list(curve) for key, curve in sorted(self.curves.items())}}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Calibration:
        curves = data["curves"]
        assert isinstance(curves, dict)
        return cls({key: (list(knots), list(values)) for key, (knots, values) in curves.items()})

    @property
    def version(self) -> str:
        text = json.dumps(sorted(self.curves.items()), separators=(",", ":"))
        return "cal-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def fit_calibration(points: dict[str, Sequence[tuple[float, bool, float]]]) -> Calibration:
    """One isotonic curve per key from (raw score, was it right, weight) measured on held-out documents."""
    curves = {}
    for key, pairs in sorted(points.items()):
        if len(pairs) < _MIN_POINTS:
            continue
        scores = np.array([score for score, _, _ in pairs], dtype=float)
        right = np.array([float(ok) for _, ok, _ in pairs])
        weights = np.array([weight for _, _, weight in pairs], dtype=float)
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, right, sample_weight=weights)
        knots = [round(float(x), 6) for x in iso.X_thresholds_]
        values = [round(float(y), 6) for y in iso.y_thresholds_]
        curves[key] = (knots, values)
    return Calibration(curves)


@dataclass(frozen=True)
class Reliability:
    """Per confidence bin: how many answers, their mean confidence, and the share that was right."""

    bins: list[tuple[float, float, int, float, float]]  # (low, high, count, mean confidence, accuracy)
    ece: float
    count: int

    def table(self) -> str:
        rows = ["| confidence | n | mean confidence | accuracy |", "| --- | --- | --- | --- |"]
        rows += [f"| {lo:.1f}-{hi:.1f} | {n} | {conf:.3f} | {acc:.3f} |" for lo, hi, n, conf, acc in self.bins if n]
        return "\n".join(rows)


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = 10) -> Reliability:
    """Reliability table and ECE of (confidence, right) pairs."""
    data = list(pairs)
    table = []
    ece = 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [(c, ok) for c, ok in data if low <= c < high or (index == bins - 1 and c == 1.0)]
        if not inside:
            table.append((low, high, 0, 0.0, 0.0))
            continue
        confidence = sum(c for c, _ in inside) / len(inside)
        accuracy = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / len(data) * abs(accuracy - confidence)
        table.append((low, high, len(inside), confidence, accuracy))
    return Reliability(table, ece, len(data))
