"""Who holds which role, read from ``roles.yaml`` (owned by flows/; pii only needs names and roles).

pii/ must not import flows/, so this reads the same file through a minimal
view: each user's ``name`` and ``roles``. Keys the view does not know (public
keys, ...) are ignored here on purpose; flows/ validates the file strictly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from docval.configfile import load_yaml_model
from docval.settings import Settings

__all__ = ["roles_of"]


class _UserView(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    roles: list[str] = []


class _RolesView(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    users: list[_UserView] = []


def roles_of(settings: Settings, user: str) -> set[str]:
    """The roles ``user`` has in the installation's ``roles.yaml`` (empty if not listed)."""
    view = load_yaml_model(settings.resolve(settings.flows.roles_file), _RolesView)
    return {role for entry in view.users if entry.name == user for role in entry.roles}
