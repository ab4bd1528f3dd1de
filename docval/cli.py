"""The ``docval`` command line.

Each package contributes its own commands through a ``register(app)``
function in its ``cli`` module; this file only wires them together and turns
``DocvalError`` into a one-line message. Package CLI modules import their
heavy dependencies (Prefect, Presidio) inside the command bodies, so
``docval --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from docval.errors import DocvalError
from docval.settings import load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="docval",
    help="Compliance document validation with a signed, Merkle-chained audit ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Modules with a ``register(app: typer.Typer) -> None`` function, one per line.
PACKAGE_CLIS: tuple[str, ...] = (
    "extractors.cli",
    "flows.cli",
    "ledger.cli",
    "pii.cli",
    "reports.cli",
    "workbench.cli",
)


@app.command()
def config() -> None:
    """Print the effective settings (no secrets live in settings)."""
    typer.echo(load_settings().model_dump_json(indent=2))


def main() -> None:
    for module in PACKAGE_CLIS:
        importlib.import_module(module).register(app)
    try:
        app()  # standalone mode: usage errors and typer.Exit codes become the process exit status
    except DocvalError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
