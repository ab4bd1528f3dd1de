"""``docval pii``: reveal, erase, scan, eval. Presidio is imported inside the commands to keep ``--help`` fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

pii_app = typer.Typer(help="Personal data: reveal pseudonyms, erase data subjects, scan for leaks, evaluate.")


@pii_app.command()
def reveal(
    doc: Annotated[str, typer.Argument(help="Document id (SHA-256 hex).")],
    token: Annotated[str, typer.Argument(help="Pseudonym such as '<PERSON_1>'.")],
    user: Annotated[str, typer.Option(help="Who is asking; needs the pii_reader role in roles.yaml.")],
) -> None:
    """Print the original behind a pseudonym (pii_reader only); the audit event goes to stderr as JSON."""
    from docval.settings import load_settings
    from pii.engine import PiiEngine
    from pii.roles import roles_of

    settings = load_settings()
    revelation = PiiEngine.from_settings(settings).vault.reveal(doc, token, user=user, roles=roles_of(settings, user))
    typer.echo(json.dumps({"kind": "pii.revealed", "doc": doc, "data": revelation.event.model_dump()}), err=True)
    typer.echo(revelation.value)


@pii_app.command()
def erase(
    subject: Annotated[str, typer.Argument(help="Data subject id, or its keyed hash with --ref.")],
    ref: Annotated[bool, typer.Option("--ref", help="SUBJECT is the keyed hash from the ledger.")] = False,
) -> None:
    """Crypto-shred a data subject: destroy its key so none of its originals can be recovered."""
    from docval.settings import load_settings
    from pii.engine import PiiEngine

    vault = PiiEngine.from_settings(load_settings()).vault
    event = vault.erase_ref(subject) if ref else vault.erase(subject)
    typer.echo(json.dumps({"kind": "pii.erased", "doc": None, "data": event.model_dump()}))


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
        sys.exit(1)  # not typer.Exit: docval's main runs click with standalone_mode=False, which swallows it


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


def register(app: typer.Typer) -> None:
    app.add_typer(pii_app, name="pii")
