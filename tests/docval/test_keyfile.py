"""Secret key files are read only at 0600 or stricter; every wider mode is refused with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from docval.errors import ConfigError
from docval.hashing import KeyedHasher
from docval.keyfile import read_secret


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_read(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(b"s" * 32)
    path.chmod(mode)
    assert read_secret(path) == b"s" * 32


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666, 0o610, 0o601])
def test_any_group_or_other_bit_is_refused_naming_the_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "hmac.key"
    path.write_bytes(b"s" * 32)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=rf"{path}: mode {mode:04o} .*chmod 600"):
        read_secret(path)
    with pytest.raises(ConfigError):
        KeyedHasher.from_file(path)


def test_a_missing_file_is_not_a_mode_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_secret(tmp_path / "absent.key")
