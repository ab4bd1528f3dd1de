"""Training, cross-validation and calibration of the field model (``scripts/train_extractor.py`` drives it).

Labels come from the truth a page reader can be judged on (``Sample.labels``):
a candidate is positive when it ``matches`` the field's true value.
Calibration is fitted only on answers to documents whose template was held
out of the model that produced them (grouped folds: a template's documents
are always in one fold), so the probabilities describe layouts the model has
not seen. Answers to scanned renders (pages read by OCR) are fitted on curves
of their own (``ocr:`` keys, ``Calibration.scoped``); the text curves never
see them, and they never see text PDFs.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from docval.domain import ExtractedField
from extractors.matching import matches
from extractors.model.calibration import KYC, OCR, UNSEEN, Calibration, fit_calibration
from extractors.model.candidates import FIELD_KINDS, Candidate, candidates
from extractors.model.corpus import Sample
from extractors.model.features import FEATURE_NAMES, feature_matrix
from extractors.model.scorer import FieldModel, Prediction
from extractors.model.tier import Routed, calibrated, check_key, read_by_ocr, route, totals_add_up

__all__ = [
    "HeldOut",
    "balance",
    "calibrate",
    "cross_validate",
    "featurise",
    "fit_field",
    "folds_by_group",
    "folds_per_template",
    "kyc_calibration",
    "train",
    "weights_digest",
]

Featured = tuple[list[Candidate], np.ndarray]  # a document's candidates and their feature rows
SYNTHETIC = ("generated", "scanned")  # ``Sample.source`` of documents drawn by the generator
RULES_UNREAD = 0.25  # share of its documents a date's classifier trains on without the rules' answer for it


def balance(samples: Sequence[Sample]) -> list[float]:
    """A weight per sample so that real and generated text PDFs weigh the same in total: a few dozen real
    invoices must not drown under a thousand generated ones, which are easier than the real world. Scanned
    renders (``SYNTHETIC``, generated too) weigh 1 and do not change the others' weights."""
    real = sum(s.source not in SYNTHETIC for s in samples)
    generated = sum(s.source == "generated" for s in samples)
    if not real or not generated:
        return [1.0] * len(samples)
    return [1.0 if s.source in SYNTHETIC else generated / real for s in samples]


def featurise(sample: Sample) -> Featured:
    """The candidates and feature rows of one document (computed once when many folds train on it)."""
    found = candidates(sample.pages)
    return found, feature_matrix(found, sample.rules)


def _trains(sample: Sample) -> bool:
    """Whether ``sample`` trains the classifiers; scanned renders only calibrate (``train``)."""
    return sample.source != "scanned"


def fit_field(matrix: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    """One field's classifier; fixed seed and a single thread-independent algorithm, so a rerun is identical."""
    classifier = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, max_leaf_nodes=31, l2_regularization=1.0, random_state=seed
    )
    return classifier.fit(matrix, labels, sample_weight=weights)


def train(
    samples: Sequence[Sample], seed: int, featured: Sequence[Featured | None] | None = None
) -> dict[str, HistGradientBoostingClassifier]:
    """One classifier per field over every candidate of the field's kind in ``samples`` (``featured``: their
    precomputed ``featurise`` results, in the same order, ``None`` for samples that do not ``_trains``).

    Scanned renders are left out: they are there for the ``ocr:`` calibration curves. Trained on, their OCR
    misreadings taught the classifiers that rightly placed amounts are wrong: a clean credit note's true net
    total fell from 0.77 to 0.005 and it raised ``TOTAL_MISMATCH``, and clean text invoices with a finding went
    from 1 to 2 of 80 and 0 to 2 of 84 (benchmarks/README.md, 2026-12-06)."""
    rows: dict[str, list[np.ndarray]] = defaultdict(list)
    labels: dict[str, list[np.ndarray]] = defaultdict(list)
    weights: dict[str, list[np.ndarray]] = defaultdict(list)
    featured = featured if featured is not None else [featurise(s) if _trains(s) else None for s in samples]
    hidden = _hidden_shares([s for s, rows_of in zip(samples, featured, strict=True) if rows_of is not None])
    for sample, weight, rows_of in zip(samples, balance(samples), featured, strict=True):
        if rows_of is None:
            continue
        found, matrix = rows_of
        for name, kind in FIELD_KINDS.items():
            if name not in sample.labels:
                continue  # unlabelled here (e.g. a corpus without due dates): neither positive nor negative
            truth = sample.labels[name]
            picked = [i for i, c in enumerate(found) if c.kind == kind]
            if not picked:
                continue
            hide = name in sample.rules and _draw(sample, name) < hidden[name]
            rows[name].append(_rules_hidden(matrix[picked], name) if hide else matrix[picked])
            labels[name].append(np.array([truth is not None and matches(name, found[i].value, truth) for i in picked]))
            weights[name].append(np.full(len(picked), weight))
    return {
        name: fit_field(np.vstack(rows[name]), np.concatenate(labels[name]), np.concatenate(weights[name]), seed)
        for name in FIELD_KINDS
    }


def _hidden_shares(samples: Sequence[Sample]) -> dict[str, float]:
    """Per date field, the share of the documents whose rules did read it that train as if they had not, so that
    ``RULES_UNREAD`` of the documents that print it lack the rules' answer (none where the rules miss that often).

    On the training PDFs the rules read nearly every date, so the due date's classifier learned to follow them
    and nothing else: where OCR hid the label from the rules, it scored every date alike (2e-5), its answer was
    the page's first date, and that raised a false ``DATE_ORDER``. The other fields keep every answer of the
    rules: hiding them too made party names overrule the rules on real invoices, a postcode win the invoice
    number at 1.0, and the net total side with the one the rules derived from an altered grand total, hiding
    its ``TOTAL_MISMATCH`` (benchmarks/README.md, session 21)."""
    shares = dict.fromkeys(FIELD_KINDS, 0.0)
    for name in (name for name, kind in FIELD_KINDS.items() if kind == "date"):
        printed = [s for s in samples if s.labels.get(name) is not None]  # no rules to hide where none is printed
        read = sum(name in s.rules for s in printed) / len(printed) if printed else 0.0
        if read > 1 - RULES_UNREAD:
            shares[name] = (read - (1 - RULES_UNREAD)) / read
    return shares


def _draw(sample: Sample, name: str) -> float:
    """A fixed draw in [0, 1) per document and field: the same documents train without their rules every run."""
    return int.from_bytes(hashlib.sha256(f"{sample.doc_id}:{name}".encode()).digest()[:4], "big") / 2**32


def _rules_hidden(rows: np.ndarray, name: str) -> np.ndarray:
    """``rows`` with the rules' answer for ``name`` taken out (its ``rules:`` features zero)."""
    hidden = rows.copy()
    hidden[:, [FEATURE_NAMES.index(f"rules:{name}:chosen"), FEATURE_NAMES.index(f"rules:{name}:confidence")]] = 0.0
    return hidden


@dataclass
class HeldOut:
    """Answers to documents whose template the scoring model never saw."""

    predictions: dict[str, dict[str, Prediction]] = field(default_factory=dict)  # doc_id -> field -> prediction
    routed: dict[str, dict[str, ExtractedField]] = field(default_factory=dict)  # doc_id -> calibrated fields

    def model_values(self, doc_id: str) -> dict[str, object]:
        return {name: p.value for name, p in self.predictions.get(doc_id, {}).items()}

    def routed_values(self, doc_id: str) -> dict[str, object]:
        return {name: f.value for name, f in self.routed.get(doc_id, {}).items()}


def folds_by_group(samples: Sequence[Sample], folds: int) -> list[list[int]]:
    """Sample indices per fold; every template's samples in one fold (assigned by a hash of the template)."""
    buckets: list[list[int]] = [[] for _ in range(folds)]
    for index, sample in enumerate(samples):
        bucket = int(hashlib.sha256(sample.group.encode()).hexdigest(), 16) % folds
        buckets[bucket].append(index)
    return buckets


def folds_per_template(samples: Sequence[Sample]) -> list[list[int]]:
    """Leave one template out: one fold per distinct ``group``, so no other template shares a held-out fold
    (generated documents are grouped by layout, so each generated layout is one fold too)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        groups[sample.group].append(index)
    return [groups[group] for group in sorted(groups)]


def cross_validate(samples: Sequence[Sample], folds: list[list[int]], seed: int) -> tuple[HeldOut, Calibration]:
    """Predict each fold with a model trained on the other folds, then calibrate on those answers
    (``calibrate``)."""
    held = HeldOut()
    featured = [featurise(s) if _trains(s) else None for s in samples]  # once for all folds; scans never train
    for fold in folds:
        inside = set(fold)
        kept = [i for i in range(len(samples)) if i not in inside]
        classifiers = train([samples[i] for i in kept], seed, [featured[i] for i in kept])
        model = FieldModel.of(classifiers, Calibration(), "cv")
        for index in fold:
            held.predictions[samples[index].doc_id] = model.predict(samples[index].pages, samples[index].rules)
    return held, calibrate(samples, held)


def calibrate(samples: Sequence[Sample], held: HeldOut) -> Calibration:
    """Both calibration stages from held-out predictions (``_fit``), the ``ocr:unseen`` curve on top of the OCR
    ones (``_unseen_points``), and every held-out document routed as the appliance would (``held.routed``)."""
    calibration, routed = _fit(samples, held)
    calibration.curves.update(fit_calibration({OCR + UNSEEN: _unseen_points(samples, held)}).curves)
    held.routed = {s.doc_id: calibrated(routed[s.doc_id], _scoped(calibration, s), s.pages) for s in samples}
    return calibration


def _fit(samples: Sequence[Sample], held: HeldOut) -> tuple[Calibration, dict[str, dict[str, Routed]]]:
    """Stage one per reader and field, stage two per answer source and field, and again for totals that add up
    (``tier.check_key``), with each sample's routed answers. Each key is prefixed with the document's scope
    (``_scope``: ``ocr:`` for scans), so text and OCR answers are fitted apart."""
    stage_one = fit_calibration(_stage_one_points(samples, held))
    routed = {s.doc_id: route(s.rules, held.predictions[s.doc_id], _scoped(stage_one, s)) for s in samples}
    points: dict[str, list[tuple[float, bool, float]]] = defaultdict(list)
    for sample, weight in zip(samples, balance(samples), strict=True):
        checked, scope = totals_add_up(routed[sample.doc_id]), _scope(sample)
        for name, answer in routed[sample.doc_id].items():
            if answer.source != "rules" and name in sample.labels:
                point = (answer.score, _right(name, answer.field.value, sample), weight)
                points[f"{scope}{answer.source}:{name}"].append(point)  # every answer: the fallback curve
                if (key := check_key(answer.source, name, checked)) != f"{answer.source}:{name}":
                    points[scope + key].append(point)
    return Calibration({**stage_one.curves, **fit_calibration(points).curves}), routed


def _unseen_points(samples: Sequence[Sample], held: HeldOut) -> list[tuple[float, bool, float]]:
    """(final confidence, right, 1) of every labelled answer to a scan, calibrated by curves fitted without the
    scan's template (leave one template out, over the templates that have scans), weak readings capped.

    The model's scores are held out by template already, but the curves were fitted on the very layouts they
    were then judged on: on scans of the unseen layouts 7-8, answers the ``ocr:`` curves rated under 0.1 were
    right 17-26 % of the time, and the middle levels did not hold either (benchmarks/README.md, 2026-12-06).
    Finer keys (per field group, field or source) fitted worse on development draws than one pooled curve."""
    points = []
    for group in sorted({s.group for s in samples if read_by_ocr(s.pages)}):
        curves, _ = _fit([s for s in samples if s.group != group], held)
        for sample in samples:
            if sample.group != group or not read_by_ocr(sample.pages):
                continue
            scoped = _scoped(curves, sample)
            answers = calibrated(route(sample.rules, held.predictions[sample.doc_id], scoped), scoped, sample.pages)
            points += [
                (answer.confidence, _right(name, answer.value, sample), 1.0)
                for name, answer in answers.items()
                if name in sample.labels and not isinstance(answer.value, list)
            ]
    return points


def kyc_calibration(samples: Sequence[Sample]) -> Calibration:
    """The ``kyc:FIELD`` curves (``ocr:kyc:FIELD`` for scans) from generated KYC forms: the rules' score against
    whether the value was right. The rules are not trained, so no fold is held out; the forms' layouts are kept
    apart from the ones ``benchmarks/kyc_bench.py`` judges the curves on."""
    points: dict[str, list[tuple[float, bool, float]]] = defaultdict(list)
    for sample in samples:
        for name, answer in sample.rules.items():
            if sample.labels.get(name) is not None:
                right = _right(name, answer.value, sample)
                points[f"{_scope(sample)}{KYC}{name}"].append((answer.confidence, right, 1.0))
    return fit_calibration(points)


def _scope(sample: Sample) -> str:
    """The calibration key prefix of a document's answers: ``ocr:`` when a page was read by OCR."""
    return _scoped(Calibration(), sample).scope


def _scoped(calibration: Calibration, sample: Sample) -> Calibration:
    return calibration.scoped(read_by_ocr(sample.pages))


def _stage_one_points(samples: Sequence[Sample], held: HeldOut) -> dict[str, list[tuple[float, bool, float]]]:
    """(raw score, right, weight) per reader and labelled field; a value where the truth says "absent" is wrong."""
    points: dict[str, list[tuple[float, bool, float]]] = defaultdict(list)
    for sample, weight in zip(samples, balance(samples), strict=True):
        scope = _scope(sample)
        for name in sample.labels:
            rules = sample.rules.get(name)
            if rules is not None and not isinstance(rules.value, list):
                points[f"{scope}rules:{name}"].append((rules.confidence, _right(name, rules.value, sample), weight))
            guess = held.predictions[sample.doc_id].get(name)
            if guess is not None:
                points[f"{scope}model:{name}"].append((guess.score, _right(name, guess.value, sample), weight))
    return points


def _right(name: str, value: object, sample: Sample) -> bool:
    truth = sample.labels.get(name)
    return truth is not None and matches(name, str(value), truth)


def weights_digest(classifiers: dict[str, object]) -> str:
    """A version string that changes whenever the weights do."""
    return "fields-" + hashlib.sha256(pickle.dumps(classifiers, protocol=5)).hexdigest()[:12]
