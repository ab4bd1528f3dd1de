"""The ``docval`` command line.

Each package contributes its own commands through a ``register(app)``
function in its ``cli`` module; this file only wires them together and turns
``DocvalError`` into a one-line message. Package CLI modules import their
heavy dependencies (Prefect, Presidio, DuckDB, matplotlib) inside the command
bodies and package ``__init__`` files export lazily (``docval.lazy``), so
``docval --help`` stays fast; tests/test_cli_imports.py holds them to it.
"""

from __future__ import annotations

import importlib
import sys

import typer

from docval.errors import DocvalError
from docval.private import make_private

__all__ = ["app", "main"]

app = typer.Typer(
    name="docval",
    help="Compliance document validation with a signed, Merkle-chained audit ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: rendering it with rich costs more than all the imports together
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
    from docval.settings import load_settings

    typer.echo(load_settings().model_dump_json(indent=2))


def main() -> None:
    make_private()  # everything any command writes under the data directory is 0600/0700 (docval.private)
    for module in PACKAGE_CLIS:
        importlib.import_module(module).register(app)
    try:
        app()  # standalone mode: usage errors and typer.Exit codes become the process exit status
    except DocvalError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
