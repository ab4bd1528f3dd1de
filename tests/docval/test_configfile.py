from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from docval.configfile import load_yaml_model
from docval.errors import ConfigError


class User(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str


class Roles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[User]
    two_person_over: int = 10_000


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    roles = load_yaml_model(write(tmp_path, "users:\n  - name: ana\n    role: reviewer\n"), Roles)
    assert roles.users == [User(name="ana", role="reviewer")]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("users:\n  - name: ana\n    role: reviewer\n  - name: bo\n    rol: admin\n", 4, "users.1.role"),
        ("users:\n  - name: ana\n    role: reviewer\n    colour: red\n", 4, "users.0.colour"),
        ("users: []\ntwo_person_over: lots\n", 2, "two_person_over"),
        ("users:\n  - name: [unclosed\n", 3, "invalid YAML"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml_model(write(tmp_path, text), Roles)
    assert caught.value.line == line, str(caught.value)
    assert fragment in caught.value.problem


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml_model(tmp_path / "absent.yaml", Roles)
