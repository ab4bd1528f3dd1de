"""The offline analyzer: Presidio built explicitly from ``pii.yaml``, long texts analysed in overlapping windows.

``AnalyzerEngine()`` with defaults would ``pip install`` a spaCy model at run
time and tldextract would fetch the public suffix list; both are avoided here
(see ``../shared/notes/presidio-ocr.md``): the NLP engine is a blank spaCy
tokenizer (context words still boost scores because lemmas are filled with the
lower-cased token), recognizers are instantiated by class name, and
tldextract is pinned to its bundled snapshot before any e-mail is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import spacy
import tldextract
import tldextract.tldextract as _tldextract_module
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer import predefined_recognizers as presidio_recognizers
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc

from pii.config import ChunkConfig, PiiConfig
from pii.errors import PiiError
from pii.label_recognizer import LabelRecognizer
from pii.recognizers import CUSTOM, DigitGatedPhoneRecognizer
from pii.tokens import token_entity

__all__ = ["Analyzer", "Span", "build_analyzer", "resolve_overlaps", "with_repeats"]

# No public-suffix-list download, ever: the bundled snapshot is enough to tell a TLD.
_tldextract_module.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True, slots=True)
class Span:
    """One detected entity: [start, end) offsets into the analysed text."""

    entity: str
    start: int
    end: int
    score: float


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """Tokens without a model: ``spacy.blank`` per language, lemmas = lower-cased tokens so context boosting works."""

    def __init__(self, languages: list[str]) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in languages])

    def load(self) -> None:
        self.nlp = {model["lang_code"]: spacy.blank(model["lang_code"]) for model in self.models}

    def is_stopword(self, word: str, language: str) -> bool:
        """Never: context words are an explicit list per recognizer, and spaCy counts "call", "number" as stop words."""
        return False

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        artifacts.lemmas = [token.lower_ for token in doc]
        artifacts.keywords = artifacts.set_keywords(self, artifacts.lemmas, language)
        return artifacts


# Presidio recognizers pii.yaml names, replaced by subclasses that give the same answers for less CPU.
_SAME_BUT_FASTER: dict[str, type[EntityRecognizer]] = {"PhoneRecognizer": DigitGatedPhoneRecognizer}


def _presidio_recognizer(name: str, language: str) -> EntityRecognizer:
    cls = _SAME_BUT_FASTER.get(name) or getattr(presidio_recognizers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, EntityRecognizer)):
        raise PiiError(f"pii.yaml: unknown Presidio recognizer {name!r}")
    return cls(supported_language=language)


def _custom_recognizer(name: str, language: str) -> EntityRecognizer:
    if name not in CUSTOM:
        raise PiiError(f"pii.yaml: unknown custom recognizer {name!r} (known: {', '.join(sorted(CUSTOM))})")
    return CUSTOM[name](supported_language=language)


def build_analyzer(config: PiiConfig, *, labels: bool | None = None, ner: bool | None = None) -> AnalyzerEngine:
    """A Presidio analyzer with exactly the recognizers ``config`` names; ``labels``/``ner`` override the switches."""
    nlp_engine = BlankSpacyNlpEngine(config.languages)
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=config.languages)
    use_labels = config.label_recognizers if labels is None else labels
    use_ner = config.ner.model is not None if ner is None else ner
    for language in config.languages:
        for name in config.presidio_recognizers:
            registry.add_recognizer(_presidio_recognizer(name, language))
        for name in config.custom_recognizers:
            registry.add_recognizer(_custom_recognizer(name, language))
        if use_labels:
            registry.add_recognizer(LabelRecognizer(supported_language=language))
        if use_ner:
            from pii.ner import NerRecognizer

            registry.add_recognizer(NerRecognizer.from_config(config.ner, language))
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        # Context words may also follow the value ("416 60 039 office"), not only precede it.
        context_aware_enhancer=LemmaContextAwareEnhancer(context_prefix_count=5, context_suffix_count=4),
        supported_languages=config.languages,
        default_score_threshold=min([config.score_threshold, *config.thresholds.values()]),
    )


def resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans in reading order: the higher score wins, then the longer span, then the earlier one.

    Presidio returns overlapping results (a URL inside an e-mail, a label name
    that NER also found); a text position can be replaced only once.
    """
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


_REPEAT_SCORE = 0.9
_MIN_REPEAT_LENGTH = 3


def with_repeats(text: str, spans: list[Span], known: Mapping[str, str]) -> list[Span]:
    """``spans`` plus every other occurrence of a value already found, in this text or for this data subject.

    A name found once after "Name:" is the same personal datum when it shows
    up later in running text ("John Smith's phone"), where no recognizer
    without NER would see it; ``known`` (original -> pseudonym) carries the
    values the vault holds for the subject from earlier documents.
    """
    values = {text[s.start : s.end]: s.entity for s in sorted(spans, key=lambda s: s.score)}  # best score wins
    for value, token in known.items():
        values.setdefault(value, token_entity(token))
    extra = [
        Span(entity, m.start(), m.end(), _REPEAT_SCORE)
        for value, entity in values.items()
        if len(value.strip()) >= _MIN_REPEAT_LENGTH
        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text)
    ]
    return resolve_overlaps([*spans, *extra]) if extra else spans


def _windows(length: int, chunk: ChunkConfig) -> list[tuple[int, int]]:
    if length <= chunk.size:
        return [(0, length)]
    step = chunk.size - chunk.overlap
    starts = range(0, length - chunk.overlap, step)
    return [(start, min(start + chunk.size, length)) for start in starts]


class Analyzer:
    """Entity spans of a text, per document kind, with chunking and per-type thresholds applied."""

    def __init__(self, config: PiiConfig, engine: AnalyzerEngine) -> None:
        self.config = config
        self.engine = engine
        self._supported = set(engine.get_supported_entities(config.languages[0]))
        self._memo: dict[tuple[str, tuple[str, ...]], tuple[Span, ...]] | None = None

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Inside the block, a text analysed again for the same entity types is answered from memory.

        The pipeline analyses a part's field values and file names as their parses arrive, while the reading
        children still parse (``PiiEngine.analyse_ahead``), so the mask and finish stages, which run on one core
        after the parsing, find their analyses done. An analysis is a function of the text and the entity types
        alone, so the remembered answer is the answer. Kept for the block only (one part of a batch), so raw
        values are not held in memory past it; a block inside another shares the outer one's memory.
        """
        if self.remembers:
            yield
            return
        self._memo = {}
        try:
            yield
        finally:
            self._memo = None

    @property
    def remembers(self) -> bool:
        """Inside ``remembering``: an analysis made now is kept for the rest of the block."""
        return self._memo is not None

    def analyze(self, text: str, entities: list[str]) -> list[Span]:
        """Spans of ``entities`` in ``text``, non-overlapping, in reading order."""
        wanted = [entity for entity in entities if entity in self._supported]
        if not text.strip() or not wanted:
            return []
        memo, key = self._memo, (text, tuple(wanted))
        if memo is not None and key in memo:
            return list(memo[key])
        spans = self._analyze(text, wanted)
        if memo is not None:
            memo[key] = tuple(spans)
        return spans

    def _analyze(self, text: str, wanted: list[str]) -> list[Span]:
        spans: list[Span] = []
        windows = _windows(len(text), self.config.chunk)
        for index, (start, end) in enumerate(windows):
            for result in self._analyze_window(text[start:end], wanted):
                # A hit touching a window's cut edge may be a truncated entity; its neighbour sees it whole.
                cut_left = index > 0 and result.start == 0
                cut_right = index < len(windows) - 1 and result.end == end - start
                if not (cut_left or cut_right):
                    spans.append(Span(result.entity_type, start + result.start, start + result.end, result.score))
        return resolve_overlaps(list(set(spans)))

    def _analyze_window(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        results = self.engine.analyze(text=text, language=self.config.languages[0], entities=entities)
        return [r for r in results if r.score >= self.config.threshold_for(r.entity_type) and r.end > r.start]
