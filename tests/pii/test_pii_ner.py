"""The NER path: a model trained by scripts/train_pii_ner.py in seconds, loaded from a directory, reproducibly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from docval.hashing import KeyedHasher
from pii import PiiEngine, load_config
from pii.ner import BUILTIN_MODEL

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from train_pii_ner import sentences  # noqa: E402  (a script, not a package)

PROBES = [
    "My name is Ingrid Johansson and I live at 12 Storgatan, Uppsala.",
    "Please call Pedro Alvarez tomorrow.",
    "The invoice total is 1190 EUR.",
]


def _train(out: Path, seed: int) -> None:
    command = [sys.executable, str(REPO / "scripts" / "train_pii_ner.py"), "--out", str(out)]
    command += ["--sentences", "200", "--epochs", "2", "--seed", str(seed)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def _engine(model: Path) -> PiiEngine:
    config = load_config()
    config = config.model_copy(update={"ner": config.ner.model_copy(update={"model": str(model)})})
    return PiiEngine(config, KeyedHasher(b"n" * 32))


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("ner-a"), tmp_path_factory.mktemp("ner-b")
    _train(first, seed=3)
    _train(second, seed=3)
    return first, second


def test_training_is_reproducible(tiny_models: tuple[Path, Path]) -> None:
    """Same seed, bit-identical weights (single-threaded BLAS, fixed hash seed), hence the same predictions."""
    assert (tiny_models[0] / "ner" / "model").read_bytes() == (tiny_models[1] / "ner" / "model").read_bytes()
    first, second = (spacy.load(model) for model in tiny_models)
    for probe in [*PROBES, *(text for text, _ in sentences(30, seed=99))]:
        assert [(e.start_char, e.end_char, e.label_) for e in first(probe).ents] == [
            (e.start_char, e.end_char, e.label_) for e in second(probe).ents
        ]


def test_a_trained_model_is_used_through_the_config(tiny_models: tuple[Path, Path]) -> None:
    engine = _engine(tiny_models[0])
    names = {type(r).__name__ for r in engine.analyzer.engine.registry.recognizers}
    assert "NerRecognizer" in names
    seen = [text for text, _ in sentences(40, seed=3)]  # its own training sentences: even a tiny model fits some
    found = {span.entity for text in seen for span in engine.spans(text)}
    assert found & {"PERSON", "LOCATION"}


@pytest.mark.skipif(not (BUILTIN_MODEL / "meta.json").exists(), reason="no built-in model shipped")
def test_the_builtin_model_finds_names_without_labels() -> None:
    config = load_config()
    engine = PiiEngine(config, KeyedHasher(b"n" * 32))
    masked = engine.mask_text("Yesterday Ingrid Johansson wrote to us from Uppsala.")
    assert "Ingrid Johansson" not in masked.text
