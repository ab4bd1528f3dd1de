"""The CLI's contract with scripts: exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docval.settings import Settings


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docval", *args], capture_output=True, text=True, timeout=120)


def test_init_creates_the_data_directory(settings: Settings) -> None:
    result = run("init")
    assert result.returncode == 0, result.stderr
    assert (settings.keys_dir / "hmac.key").exists()


def test_config_error_is_one_line_with_exit_2(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "docval.toml"
    config.write_text("[ledger]\ncheckpoint_every = 0\n")
    monkeypatch.setenv("DOCVAL_CONFIG", str(config))
    result = run("config")
    assert result.returncode == 2
    expected = f"error: {config}:2: ledger.checkpoint_every: Input should be greater than or equal to 1"
    assert result.stderr.strip() == expected


def test_usage_error_exits_2() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr
