"""Re-checking person-attributed entries after the fact: what ``docval ledger verify`` adds for people.

The recorder checked every signature before appending; the operator, who can write the ledger file, could
still append entries without going through it. So verification folds the enrolment history again and
re-checks each enrolment, each counted decision and each signed action (``approvals.actions``: reveal,
erasure, key rotation) against the roster of that moment: the signer was enrolled, held the role, and the
signature over the statement is valid for their enrolled key.
"""

from __future__ import annotations

from collections.abc import Iterable

from approvals.actions import SIGNED_ACTIONS
from approvals.entries import APPROVAL_GRANTED, PERSON_CHANGED, DecisionPayload, EnrolmentPayload
from approvals.errors import ApprovalsError
from approvals.people import Fact, Roster, apply_enrolment
from approvals.roles import DECIDING_ROLES
from approvals.signatures import verify_signature
from docval.settings import Settings
from docval.shards import root_settings, shard_names, shard_settings
from ledger import Ledger

__all__ = ["check_installation", "check_people", "roster_versions"]


def roster_versions(facts: Iterable[Fact]) -> tuple[list[Roster], list[str]]:
    """The roster after each valid enrolment entry (index = version), and a problem per invalid one."""
    versions, problems = [Roster()], []
    for fact in facts:
        if fact.kind != PERSON_CHANGED:
            continue
        try:
            versions.append(apply_enrolment(versions[-1], EnrolmentPayload.model_validate(fact.data)))
        except (ApprovalsError, ValueError) as exc:
            problems.append(f"seq {fact.seq}: enrolment not valid: {str(exc)[:200]}")
    return versions, problems


def check_people(facts: list[Fact], root: list[Fact] | None = None) -> list[str]:
    """Problems with this ledger's person-attributed entries; empty when every one holds.

    ``root``: the root ledger's entries when ``facts`` are a shard's. Enrolment lives in the root, so a
    shard's decision is checked against the enrolment version it names; in one ledger, against the roster in
    force where it was appended (and it must name that version).
    """
    versions, problems = roster_versions(root if root is not None else facts)
    in_force = 0
    for fact in facts:
        if fact.kind == PERSON_CHANGED:
            in_force += 1
        elif fact.kind == APPROVAL_GRANTED:
            problem = _check_decision(fact, versions, None if root is not None else min(in_force, len(versions) - 1))
            if problem:
                problems.append(f"seq {fact.seq}: {problem}")
        elif fact.kind in SIGNED_ACTIONS:
            # a shard's entries name no enrolment version: any roster of the root where the signer held the role
            rosters = [versions[min(in_force, len(versions) - 1)]] if root is None else versions[::-1]
            problem = _check_action(fact, rosters)
            if problem:
                problems.append(f"seq {fact.seq}: {problem}")
    return problems


def _check_action(fact: Fact, rosters: list[Roster]) -> str | None:
    """A key rotation, erasure or reveal must carry the signed statement of a person holding the role then."""
    action = SIGNED_ACTIONS[fact.kind]
    statement, signature = fact.data.get("statement"), fact.data.get("signature")
    if not isinstance(statement, dict) or not isinstance(signature, dict):
        return f"{fact.kind} carries no person's signature"
    try:
        signed = action.statement.model_validate(statement)
    except ValueError:
        return f"{fact.kind} carries a statement that is not a {action.statement.__name__}"
    if not action.bound(signed, fact.doc, fact.data):
        return f"the signed statement names other values than this {fact.kind}"
    problem = f"{signed.signer} was not an enrolled {action.role} at that point"
    for roster in rosters:
        person = roster.person(signed.signer)
        if person is None or action.role not in person.roles or fact.actor != person.name:
            continue
        try:
            verify_signature(person.key, signed.message(), signature)
            return None
        except ApprovalsError as exc:
            problem = f"{fact.kind} signature not valid for {person.name}: {exc}"
    return problem


def _check_decision(fact: Fact, versions: list[Roster], in_force: int | None) -> str | None:
    try:
        payload = DecisionPayload.model_validate(fact.data)
    except ValueError:
        return "approval.granted without a signed decision statement"
    named = payload.roster_version
    if named >= len(versions) or (in_force is not None and named != in_force):
        return f"names enrolment version {named}, not the one in force"
    person = versions[named].person(payload.statement.signer)
    if person is None:
        return f"{payload.statement.signer} was not enrolled at that point"
    if payload.role not in DECIDING_ROLES or payload.role not in person.roles:
        return f"{person.name} did not hold the role {payload.role} at that point"
    if fact.actor != person.name:
        return f"actor {fact.actor!r} is not the signer {person.name!r}"
    try:
        verify_signature(person.key, payload.statement.message(), payload.signature)
    except ApprovalsError as exc:
        return f"decision signature not valid for {person.name}: {exc}"
    return None


def check_installation(settings: Settings) -> list[str]:
    """``check_people`` over the root ledger and every shard (checked against the root's enrolment)."""
    root_facts = list(Ledger.open(root_settings(settings)).entries())
    problems = [f"root {problem}" for problem in check_people(root_facts)]
    for name in shard_names(root_settings(settings)):
        shard = list(Ledger.open(shard_settings(root_settings(settings), name)).entries())
        problems += [f"shard {name} {problem}" for problem in check_people(shard, root=root_facts)]
    return problems
