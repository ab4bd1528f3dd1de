"""Confidence as the probability of being right: isotonic curves fitted on held-out folds, per tier and field.

A raw score (the rules' "how it was found" confidence, the classifier's
probability, or the higher one where rules and model agree) goes through the
curve fitted for its ``source:field`` key on documents the model never saw
in training; the result is the measured share of right answers at that
score. Keys without a curve keep their raw score.

Pages read by OCR have curves of their own (``ocr:source:field``), fitted on
held-out scanned renders: an OCR page's raw score means less than the same
score on a text layer (misread digits, speckles read as signs), and a text
curve would promise it text-PDF accuracy. Where an OCR curve is missing the
text curve is used but capped at ``OCR_FALLBACK_CAP``, below any auto-accept
threshold worth having, so a scan is never auto-accepted on a text curve's
promise.

The ``ocr:`` curves are fitted on scans of seven training layouts, and a
curve promises more on the layouts it was fitted on than on one it never saw:
answers it rates under 0.1 were right 13 % of the time on a training layout
left out of the fit, 17-26 % on the unseen layouts 7-8. So a scan's
probability goes through one more curve, ``ocr:unseen``
(``Calibration.carried``), fitted on what curves fitted without a layout said
about that layout's scans, against how often they were right
(``train._unseen_points``). Pooled over keys, it rests on thousands of
answers where a key's own curve rests on a hundred or so.

Reliability and expected calibration error (ECE) are computed the
usual way: ten equal-width bins, ECE = Σ (bin size / n) · |accuracy − mean
confidence|.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "KYC",
    "OCR",
    "OCR_FALLBACK_CAP",
    "UNSEEN",
    "Calibration",
    "Reliability",
    "fit_calibration",
    "reliability",
]

_MIN_POINTS = 30  # fewer held-out answers than this give no curve: the raw score is kept
OCR = "ocr:"  # key prefix of the curves for pages read by OCR
OCR_FALLBACK_CAP = 0.9  # an OCR answer without an OCR curve: never above this (the default policy accepts at 0.98)
KYC = "kyc:"  # key prefix of the curves for a KYC form's fields (the rules' scores; the model reads no KYC field)
UNSEEN = "unseen"  # with a scope's prefix: how that scope's per-key curves carry to layouts they were not fitted on


@dataclass
class Calibration:
    """``source:field`` -> an increasing step curve (knots and values), applied by linear interpolation.

    ``scope`` is the key prefix of the page source the answers come from: ``""`` for a text layer, ``OCR`` for
    pages read by OCR (``scoped``). Callers name keys without it; the versions and the JSON ignore it."""

    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    scope: str = ""

    def scoped(self, ocr: bool) -> Calibration:
        """The same curves, read for answers from OCR pages (``ocr=True``) or from a text layer."""
        return Calibration(self.curves, OCR if ocr else "")

    def has(self, key: str) -> bool:
        """Whether ``key`` has a curve of this scope's own."""
        return self.scope + key in self.curves

    def probability(self, key: str, score: float) -> float:
        curve, capped = self._curve(key)
        probability = score if curve is None else float(np.interp(score, curve[0], curve[1]))
        return min(probability, OCR_FALLBACK_CAP) if capped else probability

    def carried(self, probability: float) -> float:
        """``probability`` from this scope's per-key curves, as such probabilities held on layouts the curves were
        not fitted on (the scope's ``UNSEEN`` curve); unchanged where the scope has none (text layers)."""
        curve = self.curves.get(self.scope + UNSEEN) if self.scope else None
        return probability if curve is None else float(np.interp(probability, curve[0], curve[1]))

    def ceiling(self, key: str) -> float:
        """The highest probability the curve gives at any score (1.0 without a curve), capped as ``probability``."""
        curve, capped = self._curve(key)
        highest = max(curve[1]) if curve else 1.0
        return min(highest, OCR_FALLBACK_CAP) if capped else highest

    def _curve(self, key: str) -> tuple[tuple[list[float], list[float]] | None, bool]:
        """The curve ``key`` is read through in this scope, and whether it is capped: an OCR answer without an OCR
        curve goes through the text curve, but never above ``OCR_FALLBACK_CAP``."""
        own = self.curves.get(self.scope + key)
        if own is not None or not self.scope:
            return own, False
        return self.curves.get(key), True

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
    """One isotonic curve per key from (raw score, was it right, weight) measured on held-out documents.

    Training only: scikit-learn is imported here, so a process that merely applies curves never loads it."""
    from sklearn.isotonic import IsotonicRegression

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
