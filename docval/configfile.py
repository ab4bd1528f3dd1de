"""Load YAML configuration into pydantic models, naming the line of any error.

Operators edit ``policy.yaml``, ``roles.yaml`` and ``pii.yaml`` by hand; an
error that says "roles.yaml:14: users.0.role: Input should be ..." gets fixed
in seconds, one that dumps a pydantic traceback does not. Unknown keys are
errors too (models should set ``extra="forbid"``), because a misspelt key that
is silently ignored is a policy that silently does not apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from docval.errors import ConfigError

__all__ = ["load_yaml_model"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_yaml_model(path: Path, model: type[ModelT]) -> ModelT:
    """Parse ``path`` as YAML and validate it as ``model``; raise ``ConfigError`` with the line at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, line, f"invalid YAML: {exc.problem}") from None
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(top level)"
        line = _line_of(root, first["loc"])
        raise ConfigError(path, line, f"{location}: {first['msg']}") from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the composed YAML tree along a pydantic error location; return the deepest line found."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
        line = child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, key: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(key):
                # Point at the key for unknown keys, at the value otherwise: both are on the key's line
                # for scalars, and the value's first line for nested blocks.
                return value_node if not isinstance(value_node, yaml.ScalarNode) else key_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None
