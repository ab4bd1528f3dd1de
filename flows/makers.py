"""Who made an inbox document, from something the maker cannot choose freely.

The maker of a document may never approve it, so the maker must not be a name anybody types in.
Two facts about a claimed file decide it, in this order:

1. the per-person inbox folder it was dropped into (``inbox/<person>/…``, ``<person>`` enrolled):
   the operator gives each such folder to that person's OS account alone (``chmod 0700``);
2. the OS account owning the file (for ``docval process`` without ``--move``: the account running the
   command, which owns the copies it claims), mapped to an enrolled person by ``os_makers`` of the signed
   policy (admins sign it with the rules: the mapping decides whose approval cannot count).

Otherwise the maker is unknown: the ledger's ``doc.claimed`` actor is ``UNKNOWN_MAKER`` (not a valid
person name, so it never equals a signer), and the outbox and ``docval pending`` show ``maker: null``.
"""

from __future__ import annotations

import pwd
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from approvals.record import read_roster
from docval.settings import Settings
from docval.shards import root_settings
from ledger import Ledger

__all__ = ["UNKNOWN_MAKER", "FileFacts", "enrolled_people", "inbox_folder", "maker_of", "person_of"]

UNKNOWN_MAKER = "(unknown)"


@dataclass(frozen=True)
class FileFacts:
    """What a claim saw of a file: its per-person inbox folder (if any) and its owner's uid."""

    folder: str | None
    owner: int | None


def inbox_folder(path: Path, inbox: Path) -> str | None:
    """``<person>`` for ``inbox/<person>/<file>``; None for a file directly in the inbox (or elsewhere)."""
    parent = path.parent
    return parent.name if parent != inbox and parent.parent == inbox else None


def maker_of(facts: FileFacts, *, enrolled: Collection[str], os_makers: Mapping[str, str]) -> str:
    """The enrolled person who made the file, else ``UNKNOWN_MAKER``."""
    if facts.folder is not None and facts.folder in enrolled:
        return facts.folder
    person = os_makers.get(_account(facts.owner)) if facts.owner is not None else None
    return person if person is not None and person in enrolled else UNKNOWN_MAKER


def person_of(actor: str) -> str | None:
    """A ``doc.claimed`` actor as shown to people: None when the maker is unknown."""
    return None if actor == UNKNOWN_MAKER else actor


def enrolled_people(settings: Settings) -> frozenset[str]:
    """Everyone enrolled now (the root ledger holds enrolment, in a cluster too)."""
    return frozenset(read_roster(Ledger.open(root_settings(settings))).people)


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without an account: mapped by number
        return str(uid)
