"""``pii.yaml``: which recognizers run, how sure they must be, and what replaces each entity type.

The analyzer is built from this file and nothing else, so what docval detects
is reviewable in one place and never depends on what Presidio would download
by default. A default ships inside the package; an installation overrides it
with ``<data_dir>/pii.yaml`` (``[pii] config_file``). Unknown keys are errors,
reported with file and line by ``docval.configfile.load_yaml_model``.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from docval.configfile import load_yaml_model
from docval.domain import DocKind
from docval.settings import Settings

__all__ = ["DEFAULT_CONFIG", "ChunkConfig", "NerConfig", "Operator", "PiiConfig", "load_config"]

DEFAULT_CONFIG = Path(str(resources.files("pii") / "pii.yaml"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Operator(StrEnum):
    """What replaces a detected value. Only ``pseudonym`` is reversible (through the vault)."""

    PSEUDONYM = "pseudonym"  # <PERSON_1>, consistent per document and per data subject
    MASK = "mask"  # all but the last few characters replaced by '*'
    KEYED_HASH = "keyed_hash"  # <IBAN_CODE#hmac12>: joinable, not reversible
    REDACT = "redact"  # <PERSON>: nothing left


class ChunkConfig(_Model):
    """Long texts are analysed in overlapping windows: Presidio and spaCy slow down on huge strings."""

    size: int = Field(20_000, ge=1_000, description="Characters per window.")
    overlap: int = Field(300, ge=0, description="Characters shared by neighbouring windows (> longest entity).")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkConfig:
        if self.overlap >= self.size // 2:
            raise ValueError("overlap must be less than half of size")
        return self


class NerConfig(_Model):
    """Optional spaCy NER. ``model``: ``builtin`` (the small model shipped in pii/data), a directory, or null."""

    model: str | None = None
    labels: dict[str, str] = Field(
        default_factory=lambda: {"PERSON": "PERSON", "PER": "PERSON", "LOCATION": "LOCATION", "GPE": "LOCATION"},
        description="spaCy label -> entity type; other labels are ignored.",
    )
    score: float = Field(
        0.45, ge=0, le=1, description="Kept below pattern scores so a phone or SSN wins an overlap with an NER span."
    )


class PiiConfig(_Model):
    languages: list[str] = Field(["en"], min_length=1)
    score_threshold: float = Field(0.4, ge=0, le=1, description="Results below this score are dropped.")
    thresholds: dict[str, float] = Field({}, description="Per entity type score threshold overrides.")
    presidio_recognizers: list[str] = Field(
        description="Class names from presidio_analyzer.predefined_recognizers (pattern-based ones only)."
    )
    custom_recognizers: list[str] = Field(description="Names of docval recognizers (pii.recognizers.CUSTOM).")
    label_recognizers: bool = Field(True, description="Label-anchored names/addresses/dates of birth.")
    ner: NerConfig = NerConfig()
    chunk: ChunkConfig = ChunkConfig()
    entities: dict[DocKind, list[str]] = Field(description="Entity types masked in the text of each kind.")
    fields: dict[DocKind, dict[str, str]] = Field(
        {}, description="Extracted fields whose whole value is personal data: field name -> entity type."
    )
    default_operator: Operator = Operator.PSEUDONYM
    operators: dict[str, Operator] = Field({}, description="Entity type -> operator; others use default_operator.")
    mask_keep_last: int = Field(4, ge=0, le=8, description="Characters the 'mask' operator leaves visible.")
    scan_entities: list[str] = Field(
        ["EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "US_SSN"],
        description="Pattern types `docval pii scan` reports besides values held in the vault.",
    )

    def operator_for(self, entity: str) -> Operator:
        return self.operators.get(entity, self.default_operator)

    def threshold_for(self, entity: str) -> float:
        return self.thresholds.get(entity, self.score_threshold)

    def all_entities(self) -> list[str]:
        """Every entity type any document kind masks, plus the field types: what the analyzer must load."""
        found = {entity for entities in self.entities.values() for entity in entities}
        found |= {entity for fields in self.fields.values() for entity in fields.values()}
        return sorted(found)


def load_config(settings: Settings | None = None, path: Path | None = None) -> PiiConfig:
    """``path``, else the installation's ``pii.yaml`` if it exists, else the default shipped with the package."""
    if path is None and settings is not None:
        candidate = settings.resolve(settings.pii.config_file)
        path = candidate if candidate.exists() else None
    return load_yaml_model(path or DEFAULT_CONFIG, PiiConfig)
