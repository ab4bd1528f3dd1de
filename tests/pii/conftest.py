"""Engines for the pii tests: building one costs ~1 s, so tests share them and use distinct doc ids/subjects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docval.settings import Settings
from pii import PiiEngine, load_config
from pii.config import NerConfig


@pytest.fixture(scope="session")
def pii_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("pii") / "var")
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="session")
def engine(pii_settings: Settings) -> Iterator[PiiEngine]:
    """The packaged default configuration with a vault in a session data directory."""
    yield PiiEngine.from_settings(pii_settings)


@pytest.fixture(scope="session")
def patterns_engine(pii_settings: Settings) -> PiiEngine:
    """Patterns and labels without NER: for tests about recognizers, whose results must not depend on a model."""
    config = load_config()
    return PiiEngine.from_settings(pii_settings, config.model_copy(update={"ner": NerConfig(model=None)}))


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "var")
    settings.ensure_dirs()
    return settings
