"""``docval review`` (the workbench alone) and the passkey side of ``docval users``: invite, confirm.

An admin proves who they are with their own OpenSSH key (a file outside the
data directory, or its ``.pub`` for ssh-agent); the appliance only compares
its public half with the admins the ledger enrols (``flows.approvals.enrol``),
and the countersignature of a new passkey is an SSH signature over the core's
enrolment statement, by two admins once two exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from approvals.roles import Role

if TYPE_CHECKING:
    from docval.settings import Settings

__all__ = ["register"]

users_app = typer.Typer(
    help="Passkeys for the workbench: invite a person, confirm their passkey.", no_args_is_help=True
)

AdminKeys = Annotated[
    list[Path], typer.Option("--admin-key", help="An admin's OpenSSH private key (or its .pub with ssh-agent).")
]


@users_app.command()
def invite(
    name: Annotated[str, typer.Argument(help="The person's name (lower case, e.g. bob).")],
    role: Annotated[list[Role], typer.Option("--role", help="Role(s) the person will hold; repeat for several.")],
    admin_key: AdminKeys,
) -> None:
    """Print a one-time enrolment link for NAME; it expires after workbench.invite_hours."""
    from docval.settings import load_settings
    from workbench.app import invite_link

    settings = load_settings()
    roles = [each.value for each in role]
    typer.echo(invite_link(settings, name, roles, invited_by=_admins(settings, admin_key)[0]))
    typer.echo(
        f"one use, expires in {settings.workbench.invite_hours:g} h; then: docval users confirm {name} FINGERPRINT"
    )


@users_app.command()
def confirm(
    name: Annotated[str, typer.Argument(help="The invited person.")],
    fingerprint: Annotated[str, typer.Argument(help="The fingerprint their enrolment page shows, read with them.")],
    admin_key: AdminKeys,
) -> None:
    """Countersign NAME's new passkey once you compared its fingerprint with them; ledgered by the core."""
    from approvals.entries import EnrolmentPayload, SignerSignature
    from approvals.record import read_roster, record_enrolment
    from approvals.statement import EnrolmentStatement
    from docval.settings import load_settings
    from flows.approvals.enrol import root_ledger, ssh_signature
    from workbench.app import enrolment_store

    settings = load_settings()
    credential = enrolment_store(settings).proposal(name, fingerprint)
    ledger = root_ledger(settings)
    roster = read_roster(ledger)
    statement = EnrolmentStatement(
        action="set-key" if roster.person(name) else "add",
        person=name,
        roles=[Role(role) for role in credential.roles],
        key=credential.key(),
        roster_version=roster.version,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    signatures = [
        SignerSignature(signer=admin, signature=ssh_signature(key, statement.message()))
        for admin, key in zip(_admins(settings, admin_key), admin_key, strict=True)
    ]
    seq = record_enrolment(ledger, EnrolmentPayload(statement=statement, signatures=signatures))
    typer.echo(f"{name}'s passkey {credential.fingerprint} is enrolled (seq {seq}); they can sign in now")


def _admins(settings: Settings, keys: list[Path]) -> list[str]:
    """The enrolled admin behind each key file (matched against the ledgered roster, never a typed name)."""
    from approvals.record import read_roster
    from flows.approvals.enrol import person_for_key, root_ledger
    from workbench.errors import WorkbenchError

    roster = read_roster(root_ledger(settings))
    names = [person_for_key(roster, key) for key in keys]
    for name, key in zip(names, keys, strict=True):
        if Role.ADMIN not in roster.people[name].roles:
            raise WorkbenchError(f"{key} is {name}'s key, and {name} is not an admin (docval users list)")
    return names


def review() -> None:
    """Serve the reviewer workbench alone (http://localhost:PORT); publishing needs `docval up`."""
    from docval.settings import load_settings
    from flows.reviewing import home_ledgers  # which shard holds a document is the appliance's knowledge
    from workbench.app import serve_workbench

    def publish_later(doc: str) -> None:
        typer.echo(f"document {doc[:12]} is decided; `docval up` publishes it", err=True)

    settings = load_settings()
    serve_workbench(settings, publish_later, home_ledgers(settings))


def register(app: typer.Typer) -> None:
    """Add ``review``, and ``invite``/``confirm`` to the ``users`` group flows/ registers (or a group of our own)."""
    app.command(name="review")(review)
    users = next((group.typer_instance for group in app.registered_groups if group.name == "users"), None)
    if users is None:
        app.add_typer(users_app, name="users")
        return
    for command in users_app.registered_commands:
        users.registered_commands.append(command)
