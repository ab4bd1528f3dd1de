"""Hostile and odd input: a clean result or a clear PiiError/ConfigError, never a crash."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from docval.errors import ConfigError
from docval.hashing import KeyedHasher
from docval.settings import Settings
from pii import PiiEngine, PiiError, load_config
from pii.config import DEFAULT_CONFIG, ChunkConfig


def test_empty_and_blank(engine: PiiEngine) -> None:
    for text in ("", " ", "\n\n\t"):
        masked = engine.mask_text(text)
        assert masked.text == text and masked.originals == {}


def test_binary_junk_decoded_as_text(engine: PiiEngine) -> None:
    junk = random.Random(7).randbytes(20_000).decode("latin-1") + "\x00 mail ana@example.org \x00"
    masked = engine.mask_text(junk)
    assert "ana@example.org" not in masked.text
    assert masked.reidentify(masked.text) == junk


def test_mixed_scripts_and_rtl(engine: PiiEngine) -> None:
    text = (
        "الاسم: محمد علي\u200f البريد ali@example.com\n"
        "שם: דוד כהן, טלפון +972 3 555 1234\n"
        "Имя: Иван Петров  IBAN DE89 3704 0044 0532 0130 00\n"
        "名前：山田太郎 card 4111 1111 1111 1111 \u202eevil\u202c"
    )
    masked = engine.mask_text(text)
    for value in ("ali@example.com", "+972 3 555 1234", "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111"):
        assert value not in masked.text
    assert masked.reidentify(masked.text) == text


def test_overlapping_entities_resolve_to_one_token_each(engine: PiiEngine) -> None:
    text = "Contact: ops@192.168.10.22.example.com or 4111111111111111@card.example"
    masked = engine.mask_text(text)
    assert masked.reidentify(masked.text) == text
    assert "192.168.10.22" not in masked.text


def test_a_literal_token_in_the_input_is_kept_and_not_reused(engine: PiiEngine) -> None:
    masked = engine.mask_text("Template: <PERSON_1> and <EMAIL_ADDRESS_7>\nName: Ana Souza")
    assert masked.text == "Template: <PERSON_1> and <EMAIL_ADDRESS_7>\nName: <PERSON_2>"
    assert masked.reidentify(masked.text).endswith("Name: Ana Souza")


def test_huge_text_is_chunked_without_losing_entities_at_the_seams() -> None:
    config = load_config().model_copy(update={"chunk": ChunkConfig(size=2_000, overlap=200)})
    engine = PiiEngine(config, KeyedHasher(b"k" * 32))
    unit = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 3
    parts = [f"{unit}mail person{i}@example.com card 4111 1111 1111 1111 " for i in range(150)]
    text = "".join(parts)  # ~40 kB: 20+ windows, entities straddle many seams
    started = time.perf_counter()
    masked = engine.mask_text(text)
    assert time.perf_counter() - started < 30
    assert "@example.com" not in masked.text and "4111" not in masked.text
    assert masked.text.count("<CREDIT_CARD_1>") == 150
    assert len([t for t in masked.originals if t.startswith("<EMAIL")]) == 150
    assert masked.reidentify(masked.text) == text


def test_chunk_config_is_validated() -> None:
    with pytest.raises(ValueError, match="overlap"):
        ChunkConfig(size=1_000, overlap=600)


def test_bad_pii_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pii.yaml"
    text = DEFAULT_CONFIG.read_text()
    path.write_text(text.replace("score_threshold: 0.4", "score_threshold: 0.4\nscore_treshold: 0.5"))
    with pytest.raises(ConfigError) as error:
        load_config(path=path)
    line = text.splitlines().index("score_threshold: 0.4") + 2
    assert f"pii.yaml:{line}:" in str(error.value) and "score_treshold" in str(error.value)


def test_unknown_recognizer_is_a_clear_error() -> None:
    config = load_config().model_copy(update={"presidio_recognizers": ["NoSuchRecognizer"]})
    with pytest.raises(PiiError, match="NoSuchRecognizer"):
        PiiEngine(config, KeyedHasher(b"k" * 32))


def test_missing_ner_model_is_a_clear_error_not_a_download() -> None:
    config = load_config()
    config = config.model_copy(update={"ner": config.ner.model_copy(update={"model": "/nonexistent/model"})})
    with pytest.raises(PiiError, match="never downloads"):
        PiiEngine(config, KeyedHasher(b"k" * 32))


def test_installation_pii_yaml_overrides_the_default(fresh_settings: Settings) -> None:
    override = fresh_settings.data_dir / "pii.yaml"
    default = DEFAULT_CONFIG.read_text()
    override.write_text(default.replace("default_operator: pseudonym", "default_operator: redact"))
    engine = PiiEngine.from_settings(fresh_settings)
    assert engine.mask_text("mail ana@example.org").text == "mail <EMAIL_ADDRESS>"
