"""``docval`` commands of the extractors package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def samples(
    folder: Annotated[Path, typer.Argument(help="Folder to write the sample files into (e.g. the inbox).")],
    count: Annotated[int, typer.Option(min=1, help="How many files; the first 13 are the defect set.")] = 16,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 20261125,
    truth: Annotated[
        Path | None, typer.Option(help="Ground-truth JSON; default <FOLDER>.truth.json beside the folder.")
    ] = None,
) -> None:
    """Write synthetic invoices and KYC forms (clean and defective) with their ground truth."""
    from extractors.samples import write_sample_inbox

    truth_file = truth or folder.parent / f"{folder.name}.truth.json"
    docs = write_sample_inbox(folder, count=count, seed=seed, truth_file=truth_file)
    typer.echo(f"wrote {len(docs)} sample files to {folder} (ground truth: {truth_file})")


def register(app: typer.Typer) -> None:
    app.command()(samples)
