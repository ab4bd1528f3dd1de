"""Optional spaCy NER for names and addresses, from a model directory: never a download.

``ner.model: builtin`` is the small model ``scripts/train_pii_ner.py`` trains
on Faker data and ships in ``pii/data/ner``; any other value is a directory
holding a spaCy pipeline (e.g. an official model unpacked from a vetted wheel).
A package name is deliberately not accepted: spaCy would look it up (and
Presidio would try to install it), which is how a runtime download sneaks in.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import spacy
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from pii.config import NerConfig
from pii.errors import PiiError
from pii.recognizers import result_of

__all__ = ["BUILTIN_MODEL", "NerRecognizer", "model_path", "ner_available"]

BUILTIN_MODEL = Path(str(resources.files("pii") / "data" / "ner"))


def model_path(config: NerConfig) -> Path | None:
    if config.model is None:
        return None
    return BUILTIN_MODEL if config.model == "builtin" else Path(config.model)


def ner_available(config: NerConfig) -> bool:
    """True when a model is configured, or the built-in one exists (so eval can compare against it)."""
    path = model_path(config) or BUILTIN_MODEL
    return (path / "meta.json").exists()


class NerRecognizer(EntityRecognizer):
    """Entities from a spaCy pipeline's ``ner`` component, mapped to docval's types via ``labels``."""

    def __init__(self, nlp: spacy.language.Language, labels: dict[str, str], score: float, language: str) -> None:
        self._nlp = nlp
        self._labels = labels
        self._score = score
        super().__init__(
            supported_entities=sorted(set(labels.values())), name="NerRecognizer", supported_language=language
        )

    @classmethod
    def from_config(cls, config: NerConfig, language: str) -> NerRecognizer:
        path = model_path(config) or BUILTIN_MODEL
        if not (path / "meta.json").exists():
            raise PiiError(f"pii.yaml ner.model: no spaCy pipeline at {path} (docval never downloads models)")
        nlp = spacy.load(path, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"])
        return cls(nlp, config.labels, config.score, language)

    def load(self) -> None:
        """Loaded in from_config."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        wanted = set(entities) if entities else set(self._labels.values())
        cased = any(char.isupper() for char in text)
        results = []
        for ent in self._nlp(text).ents:
            entity = self._labels.get(ent.label_)
            if entity in wanted and _plausible(ent, cased):
                results.append(result_of(self, entity, ent.start_char, ent.end_char, self._score))
        return results


def _plausible(ent: spacy.tokens.Span, cased: bool) -> bool:
    """Names and places have a capital in cased text and are not made of stop words ("mail", "Who are").

    The small model over-tags ordinary words; these two checks remove most of
    that noise at almost no cost in recall (lower-cased chat text is exempt
    from the capital rule).
    """
    words = [token for token in ent if not token.is_punct and not token.is_space]
    if not words or all(token.is_stop for token in words):
        return False
    return not cased or any(token.text[:1].isupper() or token.like_num for token in words)
