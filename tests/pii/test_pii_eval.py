"""The accuracy bars on the full presidio-research set: recall >= 0.95 on the pattern types."""

from __future__ import annotations

from pathlib import Path

from pii import load_config
from pii.evaluate import BARS, Span, evaluate_configurations, format_table, score


def test_scoring_counts_overlaps_per_family() -> None:
    gold = [Span("PERSON", 0, 5, 1), Span("EMAIL_ADDRESS", 10, 20, 1)]
    predicted = [Span("PERSON", 0, 3, 1), Span("PHONE_NUMBER", 12, 15, 1), Span("PHONE_NUMBER", 30, 35, 1)]
    by_type = {t.entity: t for t in score([(gold, predicted)])}
    assert (by_type["PERSON"].recall, by_type["PERSON"].precision) == (1.0, 1.0)
    assert (by_type["EMAIL_ADDRESS"].recall, by_type["EMAIL_ADDRESS"].masked) == (0.0, 1.0)
    assert (by_type["PHONE_NUMBER"].precision, by_type["PHONE_NUMBER"].gold) == (0.0, 0)


def test_pattern_types_meet_the_recall_bar(shared_data: Path) -> None:
    samples = shared_data / "pii-presidio-research" / "all_samples.jsonl"
    report = evaluate_configurations(load_config(), samples, names=["patterns+labels"])
    print(format_table(report))
    recall = {t.entity: t.recall for t in report[0].types}
    assert report[0].samples == 3709
    assert {entity: recall[entity] for entity in BARS if recall[entity] < BARS[entity]} == {}
