"""Fixtures every package's tests share: an isolated data directory and the shared corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docval.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Offline and quiet for everything the tests start, subprocesses included.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Subprocesses (`python -m docval ...`) must import this checkout even when it is not installed.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository (or ``$DOCVAL_SHARED_DATA``): the licensed corpora."""
    path = Path(os.environ.get("DOCVAL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        pytest.fail(f"shared corpora not found at {path}; set DOCVAL_SHARED_DATA")
    return path


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a fresh data directory under tmp_path, also exported to subprocesses via the env."""
    monkeypatch.setenv("DOCVAL_CONFIG", str(tmp_path / "docval.toml"))
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # demo identities' keys live in ~/.config, not the data dir
    loaded = load_settings()
    loaded.ensure_dirs()
    return loaded
