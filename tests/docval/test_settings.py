from __future__ import annotations

from pathlib import Path

import pytest

from docval.errors import ConfigError
from docval.settings import load_settings


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "docval.toml"
    config.write_text('data_dir = "from-file"\n[ledger]\ncheckpoint_every = 10\n')
    monkeypatch.setenv("DOCVAL_CONFIG", str(config))
    monkeypatch.delenv("DOCVAL_DATA_DIR", raising=False)
    monkeypatch.setenv("DOCVAL_LEDGER__CHECKPOINT_EVERY", "25")
    settings = load_settings()
    assert settings.data_dir == Path("from-file")
    assert settings.ledger.checkpoint_every == 25
    assert settings.ledger_db == Path("from-file/ledger.duckdb")


def test_ledger_file_and_key_dir_move_together_for_a_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard is just another ledger file and key folder; the installation's other secrets stay put."""
    monkeypatch.setenv("DOCVAL_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOCVAL_LEDGER__DB_FILE", "shards/w1/ledger.duckdb")
    monkeypatch.setenv("DOCVAL_LEDGER__KEY_DIR", "shards/w1/keys")
    settings = load_settings()
    settings.ensure_dirs()
    assert settings.ledger_db == tmp_path / "data/shards/w1/ledger.duckdb"
    assert settings.ledger_keys_dir == tmp_path / "data/shards/w1/keys"
    assert settings.keys_dir == tmp_path / "data/keys"
    assert settings.ledger_keys_dir.stat().st_mode & 0o777 == 0o700
    assert settings.ledger_db.parent.is_dir()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('data_dir = "x"\n[ledger]\norigin = "o"\ncheckpoint_every = "often"\n', 4, "ledger.checkpoint_every"),
        ('data_dir = "x"\n[ledger]\nchekpoint_every = 3\n', 3, "ledger.chekpoint_every"),
        ('data_dir = "x"\nsurprise = 1\n', 2, "surprise"),
        ('data_dir = "x\n', 1, "invalid TOML"),
    ],
)
def test_bad_config_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int, fragment: str
) -> None:
    config = tmp_path / "docval.toml"
    config.write_text(text)
    monkeypatch.setenv("DOCVAL_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.path == config
    assert caught.value.line == line
    assert fragment in str(caught.value)


def test_bad_environment_value_is_blamed_on_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCVAL_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DOCVAL_EXTRACT__MAX_PAGES", "-3")
    with pytest.raises(ConfigError, match=r"environment: extract\.max_pages"):
        load_settings()
