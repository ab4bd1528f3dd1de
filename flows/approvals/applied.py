"""``config.applied``: every configuration that changes decisions is ledgered before it is used.

At each start (``prepare``) the policy file, the enrolled people with their roles, and the settings that
change decisions are hashed; any whose hash differs from the last ``config.applied`` of that name in the root
ledger is ledgered again. Decisions name the policy version they were made under (``doc.decided.policy``), so a
report can tie each one to a ledgered configuration. The policy's content is ledgered with its SHA-256 (it holds
no PII): verify.py re-applies it to each document's ledgered facts. People are a digest of names and roles.
"""

from __future__ import annotations

import hashlib

import rfc8785

from approvals.record import read_roster
from docval.events import ConfigAppliedPayload, EntryKind
from docval.settings import Settings
from docval.shards import root_settings
from flows.policy import load_policy, policy_version
from ledger import EntryDraft, Ledger, LedgerReader

__all__ = ["apply_configuration", "configuration_digests"]

APPLIER = "docval"


def configuration_digests(settings: Settings) -> dict[str, str]:
    """Name -> SHA-256 of what is in force now."""
    roster = read_roster(Ledger.open(root_settings(settings)))
    people = {name: sorted(person.roles) for name, person in roster.people.items()}
    decisive = settings.extract.model_dump(mode="json")  # thresholds and required fields the policy's facts use
    return {
        "policy": policy_version(settings.resolve(settings.flows.policy_file)),
        "people": hashlib.sha256(rfc8785.dumps(people)).hexdigest(),
        "settings": hashlib.sha256(rfc8785.dumps(decisive)).hexdigest(),
    }


def apply_configuration(settings: Settings) -> list[str]:
    """Ledger each configuration whose digest changed since it was last ledgered; the names ledgered."""
    digests = configuration_digests(settings)
    changed: list[str] = []

    def build(reader: LedgerReader) -> list[EntryDraft]:
        applied = reader.entries_of_kind([EntryKind.CONFIG_APPLIED.value])
        last = {entry.data["name"]: _ledgered(entry.data) for entry in applied}
        changed[:] = [name for name, digest in digests.items() if last.get(name) != digest]
        content = {"policy": load_policy(settings.resolve(settings.flows.policy_file)).model_dump(mode="json")}
        return [
            EntryDraft(EntryKind.CONFIG_APPLIED.value, None, APPLIER, _payload(n, digests[n], content.get(n)))
            for n in changed
        ]

    Ledger.open(root_settings(settings)).append_with(build)
    return changed


def _ledgered(data: dict) -> str | None:
    """The digest a ``config.applied`` stands for; a policy ledgered without its content (older) counts as none."""
    return None if data["name"] == "policy" and "content" not in data else data["sha256"]


def _payload(name: str, digest: str, content: dict | None) -> dict:
    payload = ConfigAppliedPayload(name=name, version=digest[:12], sha256=digest, content=content)
    return payload.model_dump(mode="json", exclude_none=True)
