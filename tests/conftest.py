"""Fixtures every package's tests share: an isolated data directory and the shared corpora."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

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


@pytest.fixture
def load_benchmark(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """``benchmarks/NAME.py`` as a module, so its small version runs in the suite and cannot rot."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        bench = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, bench)  # dataclasses in the script look their module up
        spec.loader.exec_module(bench)
        return bench

    return load
