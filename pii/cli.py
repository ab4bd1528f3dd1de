"""``docval pii``: reveal, erase, scan, eval. Presidio is imported inside the commands to keep ``--help`` fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel

    from docval.events import EntryKind
    from docval.settings import Settings

__all__ = ["register"]

pii_app = typer.Typer(help="Personal data: reveal pseudonyms, erase data subjects, scan for leaks, evaluate.")


@pii_app.command()
def reveal(
    doc: Annotated[str, typer.Argument(help="Document id (SHA-256 hex).")],
    token: Annotated[str, typer.Argument(help="Pseudonym such as '<PERSON_1>'.")],
    key: Annotated[Path, typer.Option(help="Your OpenSSH private key (.pub: held by ssh-agent); pii_reader only.")],
) -> None:
    """Print the original behind a pseudonym (pii_reader only); the signed audit event goes to stderr as JSON."""
    from docval.events import EntryKind
    from docval.settings import load_settings
    from pii.engine import PiiEngine
    from pii.signed import signed_reveal

    settings = load_settings()
    reader, statement, signature = signed_reveal(settings, key, doc, token)
    revelation = PiiEngine.from_settings(settings).vault.reveal(doc, token, user=reader.name, roles=reader.roles)
    payload = revelation.event.model_copy(update={"statement": statement, "signature": signature})
    # Ledgered before the value is shown: a reveal that cannot be recorded does not happen.
    event = _record(settings, EntryKind.PII_REVEALED, doc=doc, actor=reader.name, payload=payload)
    typer.echo(json.dumps(event), err=True)
    typer.echo(revelation.value)


@pii_app.command()
def erase(
    subject: Annotated[str, typer.Argument(help="Data subject id, or its keyed hash with --ref.")],
    key: Annotated[Path, typer.Option(help="Your OpenSSH private key (.pub: held by ssh-agent); pii_reader only.")],
    ref: Annotated[bool, typer.Option("--ref", help="SUBJECT is the keyed hash from the ledger.")] = False,
) -> None:
    """Crypto-shred a data subject (pii_reader only): destroy its key so none of its originals can be recovered.

    The reader signs the order (the subject's keyed hash) before anything is destroyed; the signed event is
    printed. Exit 0 erased, 1 refused (the reason printed), 2 other error.
    """
    from approvals.actions import erase_consent
    from approvals.errors import ApprovalsError
    from docval.events import EntryKind
    from docval.settings import load_settings
    from pii.engine import PiiEngine

    settings = load_settings()
    vault = PiiEngine.from_settings(settings).vault
    subject_ref = subject if ref else vault.subject_ref(subject)
    try:
        reader, signed = erase_consent(settings, key, subject_ref)
    except ApprovalsError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    payload = vault.erase_ref(subject_ref).model_copy(update=signed)
    typer.echo(json.dumps(_record(settings, EntryKind.PII_ERASED, doc=None, actor=reader, payload=payload)))


@pii_app.command()
def scan(paths: Annotated[list[Path], typer.Argument(help="Files or folders to scan.", exists=True)]) -> None:
    """Search files and databases for vault originals and pattern PII; exit 1 on any hit (never prints values)."""
    from docval.settings import load_settings
    from pii.engine import PiiEngine

    hits = PiiEngine.from_settings(load_settings()).scan(paths)
    for hit in hits:
        typer.echo(str(hit))
    typer.echo(f"{len(hits)} finding(s) in {len({hit.path for hit in hits})} file(s)", err=True)
    if hits:
        raise typer.Exit(1)


@pii_app.command("eval")
def evaluate(
    data: Annotated[Path | None, typer.Option(help="all_samples.jsonl of presidio-research.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N samples.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Precision/recall/F1 per entity type on presidio-research data, for each detector configuration."""
    from docval.settings import load_settings
    from pii.config import load_config
    from pii.evaluate import default_samples_path, evaluate_configurations, format_table

    config = load_config(load_settings())
    report = evaluate_configurations(config, data or default_samples_path(), limit=limit)
    typer.echo(json.dumps([r.model_dump() for r in report], indent=2) if as_json else format_table(report))


def _record(settings: Settings, kind: EntryKind, *, doc: str | None, actor: str, payload: BaseModel) -> dict:
    """Append the event to the ledger; return it as printed for scripts (with its ledger seq)."""
    from ledger import Ledger

    data = payload.model_dump(mode="json")
    seq = Ledger.open(settings).append(kind, doc=doc, actor=actor, data=data)
    return {"seq": seq, "kind": str(kind), "doc": doc, "actor": actor, "data": data}


def register(app: typer.Typer) -> None:
    app.add_typer(pii_app, name="pii")
