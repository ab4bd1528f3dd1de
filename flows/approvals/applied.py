"""``config.applied``: every configuration that changes decisions is ledgered before it is used.

At each start (``prepare``) the enrolled people with their roles and the settings that change decisions are
hashed; any whose hash differs from the last ``config.applied`` of that name in the root ledger is ledgered
again. The policy is different: it is ledgered only signed by admins (``docval policy apply``,
``approvals.policies``), with its content, and nothing is decided under a ``policy.yaml`` that is not the one
admins signed last (``signed_policy``), which also holds the ``escalation_command`` and the ``os_makers``
mapping. Decisions name the policy version they were made under
(``doc.decided.policy``), so verify.py re-applies that ledgered policy to each document's ledgered facts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import rfc8785

from approvals.entries import SignerSignature
from approvals.policies import last_signed_policy, policy_statement, record_policy
from approvals.record import read_roster
from approvals.signers import person_for_key, ssh_signature
from docval.events import ConfigAppliedPayload, EntryKind
from docval.settings import Settings
from docval.shards import root_settings
from flows.errors import FlowError
from flows.policy import Policy, load_policy, policy_version
from ledger import EntryDraft, Ledger, LedgerReader

__all__ = [
    "LastSigned",
    "apply_configuration",
    "configuration_digests",
    "last_signed",
    "sign_policy",
    "signed_policy",
]

APPLIER = "docval"


def configuration_digests(settings: Settings) -> dict[str, str]:
    """Name -> SHA-256 of what is in force now (the policy apart: admins sign it)."""
    roster = read_roster(Ledger.open(root_settings(settings)))
    people = {name: sorted(person.roles) for name, person in roster.people.items()}
    decisive = settings.extract.model_dump(mode="json")  # thresholds and required fields the policy's facts use
    return {
        "people": hashlib.sha256(rfc8785.dumps(people)).hexdigest(),
        "settings": hashlib.sha256(rfc8785.dumps(decisive)).hexdigest(),
    }


def apply_configuration(settings: Settings) -> list[str]:
    """Ledger each configuration whose digest changed since it was last ledgered; the names ledgered."""
    digests = configuration_digests(settings)
    changed: list[str] = []

    def build(reader: LedgerReader) -> list[EntryDraft]:
        applied = reader.entries_of_kind([EntryKind.CONFIG_APPLIED.value])
        last = {entry.data["name"]: entry.data["sha256"] for entry in applied}
        changed[:] = [name for name, digest in digests.items() if last.get(name) != digest]
        return [EntryDraft(EntryKind.CONFIG_APPLIED.value, None, APPLIER, _payload(n, digests[n])) for n in changed]

    Ledger.open(root_settings(settings)).append_with(build)
    return changed


def _payload(name: str, digest: str) -> dict:
    payload = ConfigAppliedPayload(name=name, version=digest[:12], sha256=digest)
    return payload.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class LastSigned:
    """The policy admins signed last, and whether ``policy.yaml`` is byte for byte that one."""

    version: str | None  # None: no policy was ever signed
    policy: Policy | None  # built from the ledgered content, never from the file
    problem: str | None  # why nothing may be decided under ``policy.yaml``; None when it is the signed one


def last_signed(settings: Settings) -> LastSigned:
    """One read of the root ledger: the signed policy, and whether the file on disk is it.

    Escalation goes on with the signed policy even when the file was edited since (it fails closed), so it
    needs both answers; ``signed_policy`` refuses instead.
    """
    path = settings.resolve(settings.flows.policy_file)
    version = policy_version(path)
    signed = last_signed_policy(Ledger.open(root_settings(settings)))
    if signed is None:
        return LastSigned(None, None, _unsigned(path, version))
    policy = Policy.model_validate(signed[1])
    return LastSigned(signed[0], policy, None if signed[0] == version else _unsigned(path, version))


def _unsigned(path: Path, version: str) -> str:
    return (
        f"{path} (version {version[:12]}) is not the policy admins signed last: nothing is decided under it. "
        "Sign it with `docval policy apply --admin-key FILE` (two --admin-key once two admins are enrolled), "
        "or restore the signed file"
    )


def signed_policy(settings: Settings) -> tuple[str, Policy]:
    """(version, policy) as admins signed it last, if ``policy.yaml`` is byte for byte that one; else a FlowError.

    The policy returned is the ledgered content, not the file read again, so nothing edited on disk after the
    check (an ``os_makers`` entry naming the operator's account, an ``escalation_command``) takes effect.
    """
    last = last_signed(settings)
    if last.problem is not None or last.version is None or last.policy is None:
        raise FlowError(last.problem or "no signed policy")
    return last.version, last.policy


def sign_policy(settings: Settings, admin_keys: list[Path]) -> int:
    """Sign ``policy.yaml`` as it is now with each admin key and ledger it; its seq (refused: ApprovalsError)."""
    path = settings.resolve(settings.flows.policy_file)
    content = load_policy(path).model_dump(mode="json")
    ledger = Ledger.open(root_settings(settings))
    roster = read_roster(ledger)
    signed_at = datetime.now(UTC).isoformat(timespec="seconds")
    statement = policy_statement(policy_version(path), content, roster.version, signed_at)
    signatures = [
        SignerSignature(signer=person_for_key(roster, key), signature=ssh_signature(key, statement.message()))
        for key in admin_keys
    ]
    return record_policy(ledger, statement, content, signatures)
