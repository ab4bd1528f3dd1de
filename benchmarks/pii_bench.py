"""PII throughput: docval's masking vs the bare Presidio analyzer on the same texts (same run, same machine).

Baseline = Presidio's own pattern recognizers on a blank spaCy tokenizer,
``analyze()`` only (the cheapest offline Presidio setup, no masking).
docval = ``PiiEngine.mask_text``: the same plus docval's recognizers, label
recognizer, repeats, chunking and pseudonym replacement; and the same with
the NER model when one is available. Two workloads: many short documents
(presidio-research sentences) and one long document (the sentences
concatenated), where chunking matters.

    python benchmarks/pii_bench.py [--docs 3709] [--chars 200000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from docval.hashing import KeyedHasher
from pii import PiiEngine, load_config
from pii.analysis import build_analyzer
from pii.config import NerConfig
from pii.evaluate import default_samples_path
from pii.ner import ner_available


def _timed(run: Callable[[str], object], texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        run(text)
    return time.perf_counter() - started


def measure(docs: int, chars: int) -> dict[str, dict[str, float]]:
    lines = default_samples_path().read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[:docs]]
    long_text = ""
    while len(long_text) < chars:
        long_text += "\n".join(texts) + "\n"
    long_text = long_text[:chars]

    config = load_config()
    bare = build_analyzer(config.model_copy(update={"custom_recognizers": []}), labels=False, ner=False)
    hasher = KeyedHasher(b"bench" * 8)
    no_ner = config.model_copy(update={"ner": NerConfig(model=None)})
    runners: dict[str, Callable[[str], object]] = {
        "bare presidio analyze": lambda text: bare.analyze(text=text, language="en"),
        "docval mask_text, no NER": PiiEngine(no_ner, hasher).mask_text,
    }
    if ner_available(config.ner):
        with_ner = config.model_copy(update={"ner": NerConfig(model=config.ner.model or "builtin")})
        runners["docval mask_text + NER"] = PiiEngine(with_ner, hasher).mask_text
    short_chars = sum(map(len, texts))
    figures = {}
    for name, run in runners.items():
        run("warm up: anna@example.org")
        short = _timed(run, texts)
        long = _timed(run, [long_text])
        figures[name] = {
            "docs_per_s": round(len(texts) / short, 1),
            "chars_per_s_short": round(short_chars / short),
            "chars_per_s_long": round(len(long_text) / long),
            "long_seconds": round(long, 2),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="PII masking throughput vs the bare Presidio analyzer")
    parser.add_argument("--docs", type=int, default=3709, help="short documents (presidio-research sentences)")
    parser.add_argument("--chars", type=int, default=200_000, help="size of the one long document")
    args = parser.parse_args()
    figures = measure(args.docs, args.chars)
    base = figures["bare presidio analyze"]
    print(f"{'configuration':<26} {'docs/s':>9} {'chars/s':>9} {'long chars/s':>13} {'long s':>7} {'vs bare':>8}")
    for name, row in figures.items():
        ratio = row["docs_per_s"] / base["docs_per_s"]
        print(
            f"{name:<26} {row['docs_per_s']:>9.1f} {row['chars_per_s_short']:>9} {row['chars_per_s_long']:>13}"
            f" {row['long_seconds']:>7.2f} {ratio:>7.2f}x"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
