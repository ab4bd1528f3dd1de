"""Ledger shards: which settings make a worker write its own ledger, and which shards an installation has.

A cluster shares one data directory; worker NAME writes the shard
``data_dir/shards/NAME/ledger.duckdb`` signed by the key in
``data_dir/shards/NAME/keys`` under the origin ``<ledger.origin>/NAME``. A
shard is nothing but those three ledger settings (plus a key name that says
whose key it is), so a worker becomes a shard by its environment alone and
every other secret (hmac.key, user keys, the PII master key) stays shared in
``data_dir/keys``. The installation's ordinary ledger is the *root*: the
anchor flow appends the shards' checkpoints to it. Pure settings arithmetic:
no package imports, so the cluster scripts, ledger/ and reports/ all use it.
"""

from __future__ import annotations

import re
from pathlib import Path

from docval.errors import DocvalError
from docval.settings import Settings

__all__ = [
    "SHARDS_DIR",
    "check_shard_name",
    "root_settings",
    "shard_env",
    "shard_name_of",
    "shard_names",
    "shard_overrides",
    "shard_settings",
]

SHARDS_DIR = Path("shards")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def check_shard_name(name: str) -> str:
    """A shard name is a path component, an origin suffix and part of a key name: letters, digits, ``-``, ``_``."""
    if not _NAME.fullmatch(name):
        raise DocvalError(f"shard name {name!r}: use 1-63 letters, digits, '-' or '_'")
    return name


def shard_overrides(settings: Settings, name: str) -> dict[str, str]:
    """The ``[ledger]`` settings of shard ``name`` of the installation described by ``settings`` (the root)."""
    folder = SHARDS_DIR / check_shard_name(name)
    return {
        "db_file": str(folder / "ledger.duckdb"),
        "key_dir": str(folder / "keys"),
        "origin": f"{settings.ledger.origin}/{name}",
        "key_name": f"{settings.ledger.key_name}-{name}",
    }


def shard_env(settings: Settings, name: str) -> dict[str, str]:
    """Environment variables that make a docval process (worker, ``docval keys init``) write shard ``name``.

    Paths stay relative to ``data_dir``, so the same variables work on every machine mounting the shared
    data directory wherever it is mounted.
    """
    env = {f"DOCVAL_LEDGER__{key.upper()}": value for key, value in shard_overrides(settings, name).items()}
    return env | {"DOCVAL_LEDGER__WITNESSES": "[]"}  # see shard_settings


def shard_settings(settings: Settings, name: str) -> Settings:
    """``settings`` with the ledger switched to shard ``name`` (everything else unchanged).

    Validated afresh rather than copied: ``Settings`` caches resolved paths, and a copy would keep the root's.
    A shard asks no witness: the root anchors every shard checkpoint (with its consistency proof) and the
    root is what witnesses cosign, so one witnessed log covers them all and witnesses need know one origin.
    """
    values = settings.model_dump()
    values["ledger"] = {**values["ledger"], **shard_overrides(settings, name), "witnesses": []}
    return type(settings).model_validate(values)


def shard_names(settings: Settings) -> list[str]:
    """Shards present in the data directory: every ``shards/NAME/`` holding a ledger file, sorted."""
    folder = settings.resolve(SHARDS_DIR)
    if not folder.is_dir():
        return []
    return sorted(path.parent.name for path in folder.glob("*/ledger.duckdb") if _NAME.fullmatch(path.parent.name))


def shard_name_of(settings: Settings) -> str | None:
    """The shard these settings write (their ledger file is ``shards/NAME/ledger.duckdb``), or None for the root."""
    db_file = settings.ledger.db_file
    if db_file.name == "ledger.duckdb" and db_file.parent.parent == SHARDS_DIR and _NAME.fullmatch(db_file.parent.name):
        return db_file.parent.name
    return None


def root_settings(settings: Settings) -> Settings:
    """The root ledger's settings, also from inside a shard worker (whose environment names its shard).

    The anchor and installation-wide verify run wherever Prefect puts them, possibly on a worker that
    carries a shard's environment; this undoes ``shard_overrides`` so they still read and write the root.
    """
    name = shard_name_of(settings)
    if name is None:
        return settings
    defaults = type(settings.ledger)()
    values = settings.model_dump()
    values["ledger"] = {
        **values["ledger"],
        "db_file": defaults.db_file,
        "key_dir": defaults.key_dir,
        "origin": settings.ledger.origin.removesuffix(f"/{name}"),
        "key_name": settings.ledger.key_name.removesuffix(f"-{name}"),
    }
    return type(settings).model_validate(values)
