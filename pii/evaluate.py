"""Accuracy on presidio-research's labelled synthetic sentences, per entity type and detector configuration.

Gold labels differ between the upstream files (ADDRESS/LOCATION vs
STREET_ADDRESS/GPE), so both sides are folded into comparable families:
every address-like label is ``ADDRESS``, and our ``DATE_OF_BIRTH`` counts as
``DATE_TIME``. Types we do not detect (ORGANIZATION, TITLE, AGE, ...) are left
out rather than reported as zero. A gold span counts as found when a
prediction of the same family overlaps it; ``masked`` is the leak-relevant
recall: overlapped by a prediction of *any* type, i.e. it would be replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from pii.analysis import Analyzer, Span, build_analyzer
from pii.config import PiiConfig

__all__ = ["ConfigScore", "TypeScore", "default_samples_path", "evaluate_configurations", "format_table", "score"]

GOLD_FAMILY = {
    "PERSON": "PERSON",
    "ADDRESS": "ADDRESS",
    "STREET_ADDRESS": "ADDRESS",
    "LOCATION": "ADDRESS",
    "GPE": "ADDRESS",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_TIME",
}
PREDICTED_FAMILY = {**GOLD_FAMILY, "DATE_OF_BIRTH": "DATE_TIME"}
EVAL_ENTITIES = sorted(set(PREDICTED_FAMILY) - {"STREET_ADDRESS", "GPE"})
BARS = {"EMAIL_ADDRESS": 0.95, "IBAN_CODE": 0.95, "CREDIT_CARD": 0.95, "PHONE_NUMBER": 0.95, "US_SSN": 0.95}


class TypeScore(BaseModel):
    entity: str
    gold: int
    predicted: int
    precision: float
    recall: float
    f1: float
    masked: float  # share of gold spans replaced by a prediction of any type


class ConfigScore(BaseModel):
    name: str
    samples: int
    seconds: float
    types: list[TypeScore]


def default_samples_path() -> Path:
    shared = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return shared / "pii-presidio-research" / "all_samples.jsonl"


def load_samples(path: Path, limit: int | None = None) -> list[tuple[str, list[Span]]]:
    """(text, gold spans in families) per sample; the one upstream span with broken offsets is skipped."""
    samples = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            gold = [
                Span(GOLD_FAMILY[s["entity_type"]], s["start"], s["end"], 1.0)
                for s in record["spans"]
                if s["entity_type"] in GOLD_FAMILY and s["offset_ok"]
            ]
            samples.append((record["text"], gold))
            if limit is not None and len(samples) >= limit:
                break
    return samples


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def score(pairs: Iterable[tuple[list[Span], list[Span]]]) -> list[TypeScore]:
    """Per-family scores from (gold, predicted) span lists, predictions already mapped to families."""
    gold_n: dict[str, int] = {}
    pred_n: dict[str, int] = {}
    found: dict[str, int] = {}
    correct: dict[str, int] = {}
    masked: dict[str, int] = {}
    for gold, predicted in pairs:
        for g in gold:
            gold_n[g.entity] = gold_n.get(g.entity, 0) + 1
            overlapping = [p for p in predicted if _overlaps(g, p)]
            found[g.entity] = found.get(g.entity, 0) + any(p.entity == g.entity for p in overlapping)
            masked[g.entity] = masked.get(g.entity, 0) + bool(overlapping)
        for p in predicted:
            pred_n[p.entity] = pred_n.get(p.entity, 0) + 1
            correct[p.entity] = correct.get(p.entity, 0) + any(g.entity == p.entity and _overlaps(g, p) for g in gold)
    scores = []
    for entity in sorted(set(gold_n) | set(pred_n)):
        precision = correct.get(entity, 0) / pred_n[entity] if pred_n.get(entity) else 0.0
        recall = found.get(entity, 0) / gold_n[entity] if gold_n.get(entity) else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        share = masked.get(entity, 0) / gold_n[entity] if gold_n.get(entity) else 0.0
        scores.append(
            TypeScore(
                entity=entity,
                gold=gold_n.get(entity, 0),
                predicted=pred_n.get(entity, 0),
                precision=round(precision, 3),
                recall=round(recall, 3),
                f1=round(f1, 3),
                masked=round(share, 3),
            )
        )
    return scores


def _configurations(config: PiiConfig) -> list[tuple[str, bool, bool]]:
    from pii.ner import ner_available

    runs = [("patterns", False, False), ("patterns+labels", True, False)]
    if ner_available(config.ner):
        runs.append(("patterns+labels+ner", True, True))
    return runs


def evaluate_configurations(
    config: PiiConfig, path: Path, limit: int | None = None, names: list[str] | None = None
) -> list[ConfigScore]:
    """Score every configuration (patterns; + labels; + NER when a model is configured or built in), or ``names``."""
    import time

    samples = load_samples(path, limit)
    results = []
    for name, labels, ner in _configurations(config):
        if names is not None and name not in names:
            continue
        analyzer = Analyzer(config, build_analyzer(config, labels=labels, ner=ner))
        started = time.perf_counter()
        pairs = []
        for text, gold in samples:
            predicted = [
                Span(PREDICTED_FAMILY[s.entity], s.start, s.end, s.score)
                for s in analyzer.analyze(text, EVAL_ENTITIES)
                if s.entity in PREDICTED_FAMILY
            ]
            pairs.append((gold, predicted))
        seconds = round(time.perf_counter() - started, 2)
        results.append(ConfigScore(name=name, samples=len(samples), seconds=seconds, types=score(pairs)))
    return results


def format_table(report: list[ConfigScore]) -> str:
    """A plain-text table: one block per configuration, bars marked where recall falls short."""
    lines = []
    for run in report:
        lines.append(f"== {run.name}: {run.samples} samples, {run.seconds:.1f} s")
        lines.append(f"{'entity':<14} {'gold':>5} {'pred':>5} {'prec':>6} {'recall':>6} {'f1':>6} {'masked':>7}  bar")
        for t in run.types:
            bar = BARS.get(t.entity)
            verdict = "" if bar is None else ("ok" if t.recall >= bar else f"BELOW {bar}")
            lines.append(
                f"{t.entity:<14} {t.gold:>5} {t.predicted:>5} {t.precision:>6.3f} {t.recall:>6.3f} {t.f1:>6.3f}"
                f" {t.masked:>7.3f}  {verdict}"
            )
    return "\n".join(lines)
