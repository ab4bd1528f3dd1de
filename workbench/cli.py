"""``docval review`` (the workbench alone) and the passkey side of ``docval users``: invite, confirm.

An admin proves who they are with their own OpenSSH key (a file outside the
data directory, or its ``.pub`` for ssh-agent); the appliance only compares
its public half with the admins the ledger enrols, and the countersignature
of a new passkey is an SSH signature over the core's enrolment statement.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

users_app = typer.Typer(help="People and their keys: invite to the workbench, confirm a passkey.", no_args_is_help=True)

AdminKeys = Annotated[
    list[Path], typer.Option("--admin-key", help="An admin's OpenSSH private key (or its .pub with ssh-agent).")
]


@users_app.command()
def invite(
    name: Annotated[str, typer.Argument(help="The person's name (lower case, e.g. bob).")],
    role: Annotated[list[str], typer.Option("--role", help="Role(s) the person will hold, e.g. reviewer.")],
    admin_key: AdminKeys,
) -> None:
    """Print a one-time enrolment link for NAME; it expires after workbench.invite_hours."""
    from docval.settings import load_settings
    from workbench.app import enrolment_store, workbench_url

    settings = load_settings()
    admin = _admins(settings, admin_key)[0]
    token = enrolment_store(settings).invite(
        name, role, invited_by=admin, valid=timedelta(hours=settings.workbench.invite_hours)
    )
    typer.echo(f"{workbench_url(settings)}/enrol/{token}")
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
    from approvals.roles import Role
    from approvals.sshsig import sign_with_ssh_keygen
    from approvals.statement import EnrolmentStatement
    from docval.settings import load_settings
    from ledger import Ledger
    from workbench.app import enrolment_store

    settings = load_settings()
    credential = enrolment_store(settings).proposal(name, fingerprint)
    ledger = Ledger.open(settings)
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
        SignerSignature(
            signer=admin, signature={"kind": "sshsig", "signature": sign_with_ssh_keygen(key, statement.message())}
        )
        for admin, key in zip(_admins(settings, admin_key), admin_key, strict=True)
    ]
    seq = record_enrolment(ledger, EnrolmentPayload(statement=statement, signatures=signatures))
    typer.echo(f"{name}'s passkey {credential.fingerprint} is enrolled (seq {seq}); they can sign in now")


def _admins(settings: object, keys: list[Path]) -> list[str]:
    """The enrolled admin behind each key file; WorkbenchError for a key the ledger does not enrol as admin."""
    from approvals.record import read_roster
    from approvals.roles import Role
    from ledger import Ledger
    from workbench.errors import WorkbenchError

    roster = read_roster(Ledger.open(settings))  # type: ignore[arg-type]
    names = []
    for key in keys:
        public = _public_line(key)
        match = [
            person.name
            for person in roster.people.values()
            if Role.ADMIN in person.roles and person.key.get("public_key", "").split()[:2] == public.split()[:2]
        ]
        if not match:
            raise WorkbenchError(f"{key} is not the key of an enrolled admin (docval users list shows who is)")
        names.append(match[0])
    return names


def _public_line(key: Path) -> str:
    if key.suffix == ".pub":
        return key.read_text()
    if key.with_suffix(".pub").exists():
        return key.with_suffix(".pub").read_text()
    done = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        from workbench.errors import WorkbenchError

        raise WorkbenchError(f"{key}: not a readable OpenSSH private key ({done.stderr.strip()})")
    return done.stdout


def review() -> None:
    """Serve the reviewer workbench alone (http://localhost:PORT); publishing needs `docval up`."""
    from docval.settings import load_settings
    from workbench.app import serve_workbench

    def publish_later(doc: str) -> None:
        typer.echo(f"document {doc[:12]} is decided; `docval up` publishes it", err=True)

    serve_workbench(load_settings(), publish_later)


def register(app: typer.Typer) -> None:
    app.command(name="review")(review)
    app.add_typer(users_app, name="users")
