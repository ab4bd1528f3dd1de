"""``docval init``, ``docval users …``, ``docval policy apply``, ``docval approve|reject``, ``docval pending``.

Exit status of approve/reject: 0 the decision was recorded, 1 it was refused (the reasons are printed and
ledgered), 2 anything else. There is no ``--as``: who acts is whoever holds the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from approvals.roles import Role
from docval.names import shown
from docval.settings import load_settings

__all__ = ["register"]

users_app = typer.Typer(help="Enrolled people: add, change roles, remove (each signed by admin keys), list.")
policy_app = typer.Typer(help="The decision policy: it applies once admins signed it (two once two are enrolled).")

AdminKeys = Annotated[
    list[Path],
    typer.Option("--admin-key", help="An admin's OpenSSH private key (or .pub held by ssh-agent); twice for two."),
]
Roles = Annotated[list[Role], typer.Option("--role", help="Role to hold; repeat for several.")]
Name = Annotated[str, typer.Argument(help="The person's name (lower case, e.g. bob).")]
Doc = Annotated[str, typer.Argument(help="Document id or a unique prefix (≥ 8 hex digits).")]
Key = Annotated[Path, typer.Option("--key", help="Your OpenSSH private key (a .pub: the key in ssh-agent).")]
Reason = Annotated[str, typer.Option("--reason", help="Why; masked for personal data and ledgered.")]


def init(
    admin: Annotated[str | None, typer.Option("--admin", help="Name of the first admin (the trust anchor).")] = None,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="The first admin's .pub file.")] = None,
) -> None:
    """Create the data directory, its secrets and the first admin; without --admin, demo identities."""
    from flows.appliance import prepare
    from flows.approvals.enrol import init_admin

    settings = load_settings()
    if admin is not None:
        if public_key is None:
            raise typer.BadParameter("--admin needs --public-key FILE (the admin's OpenSSH .pub)")
        prepare(settings, demo=False)
        seq = init_admin(settings, admin, public_key)
        prepare(settings, demo=False)  # now that someone is enrolled: ledgers the configuration in force
        typer.echo(f"first admin {admin} enrolled at seq {seq}: the trust anchor auditors pin")
        typer.echo(f"next: review {settings.flows.policy_file} and sign it: docval policy apply --admin-key FILE")
    else:
        demo = prepare(settings)
        if demo is not None:
            typer.echo(f"demo identities (marked demo in the ledger); their keys: {demo}")
    typer.echo(f"data directory ready: {settings.data_dir.resolve()}")


@users_app.command("add")
def users_add(
    name: Name, role: Roles, public_key: Annotated[Path, typer.Option(help=".pub file")], admin_key: AdminKeys
) -> None:
    """Enrol a person with roles and their OpenSSH public key."""
    from approvals.signers import public_key_of
    from flows.approvals.enrol import enrol

    seq = enrol(load_settings(), "add", name, roles=role, public_key=public_key_of(public_key), admin_keys=admin_key)
    typer.echo(f"{name} enrolled as {', '.join(role)} (seq {seq})")


@users_app.command("set-roles")
def users_set_roles(name: Name, role: Roles, admin_key: AdminKeys) -> None:
    """Replace a person's roles (from this entry on, decisions are checked against the new roles)."""
    from flows.approvals.enrol import enrol

    seq = enrol(load_settings(), "set-roles", name, roles=role, public_key=None, admin_keys=admin_key)
    typer.echo(f"{name} now holds {', '.join(role)} (seq {seq})")


@users_app.command("remove")
def users_remove(name: Name, admin_key: AdminKeys) -> None:
    """Remove a person: from this entry on they cannot decide."""
    from flows.approvals.enrol import enrol

    seq = enrol(load_settings(), "remove", name, roles=[], public_key=None, admin_keys=admin_key)
    typer.echo(f"{name} removed (seq {seq})")


@policy_app.command("apply")
def policy_apply(admin_key: AdminKeys) -> None:
    """Sign policy.yaml as it is now with admin keys and ledger it: from then on documents are decided under it."""
    from flows.approvals.applied import sign_policy

    settings = load_settings()
    seq = sign_policy(settings, admin_key)
    typer.echo(f"{settings.flows.policy_file} signed and ledgered at seq {seq}; it applies to decisions from now on")


@users_app.command("list")
def users_list() -> None:
    """Enrolled people, their roles and key fingerprints."""
    from approvals.record import read_roster
    from approvals.sshsig import fingerprint
    from flows.approvals.enrol import root_ledger

    roster = read_roster(root_ledger(load_settings()))
    for person in sorted(roster.people.values(), key=lambda p: p.name):
        key = fingerprint(person.key["public_key"]) if person.key["kind"] == "ssh-ed25519" else "passkey"
        roles = ",".join(sorted(person.roles))
        typer.echo(f"{person.name:<16}{roles:<32}{key}{'  (demo)' if person.demo else ''}")


def pending(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, one object per document.")] = False,
) -> None:
    """Documents waiting for people: why (rule, findings), approvals so far, deadline."""
    from flows.approvals.pending import pending_rows

    rows = pending_rows(load_settings())
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("nothing waits for approval")
        return
    typer.echo(
        f"{'doc':<14}{'source':<32}{'maker':<12}{'rule':<22}{'approvals':<11}{'queue':<17}{'deadline':<27}findings"
    )
    for row in rows:
        count = f"{len(row['approvals'])}/{row['approvals_required']}"
        typer.echo(
            f"{row['doc'][:12]:<14}{shown(row['source'])[:30]:<32}{row['maker'] or '(unknown)':<12}"
            f"{(row['rule'] or '')[:20]:<22}{count:<11}"
            f"{row['queue']:<17}{row['deadline'] or '':<27}{','.join(row['findings'])}"
        )


def approve(doc: Doc, key: Key, reason: Reason) -> None:
    """Approve a waiting document, signed with your own key."""
    _decide(doc, key, "approve", reason)


def reject(doc: Doc, key: Key, reason: Reason) -> None:
    """Reject a waiting document, signed with your own key."""
    _decide(doc, key, "reject", reason)


def _decide(prefix: str, key: Path, decision: Literal["approve", "reject"], reason: str) -> None:
    """Record the signed decision; a decided document goes to the running appliance (no Prefect import here)."""
    from flows.approvals.decide import decide
    from flows.approvals.trigger import start_publish
    from flows.errors import FlowError

    settings = load_settings()
    decided = decide(settings, prefix, key, decision, reason)
    if decided.signed is not None:  # what the key signed, reason as masked: check it says what you meant
        typer.echo(f"signed statement: {decided.signed}")
    typer.echo(decided.message)
    if decided.recorded is None or not decided.recorded.accepted:
        raise typer.Exit(1)
    if decided.recorded.state.outcome is not None:
        try:
            typer.echo(f"publishing: flow run {start_publish(settings, decided.doc, decided.shard)}")
        except FlowError as exc:
            typer.echo(f"decision recorded; {exc}")


def register(app: typer.Typer) -> None:
    for command in (init, pending, approve, reject):
        app.command()(command)
    app.add_typer(users_app, name="users")
    app.add_typer(policy_app, name="policy")
