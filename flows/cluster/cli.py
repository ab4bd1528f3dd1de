"""``docval cluster``: many workers on one Prefect work pool (dispatcher.py), and its PostgreSQL database."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["cluster_app"]

cluster_app = typer.Typer(help="Many workers: PostgreSQL, a Prefect work pool, process workers, ledger shards.")


@cluster_app.command("up")
def up(
    workers: Annotated[int, typer.Option(min=1, help="Process workers to start on this machine.")] = 3,
    chunk: Annotated[
        int | None, typer.Option(min=1, help="At most this many files per flow run [default: flows.batch_max].")
    ] = None,
    samples: Annotated[bool, typer.Option(help="Write the sample inbox if the inbox is empty.")] = False,
    exit_when_idle: Annotated[bool, typer.Option(help="Stop once the inbox is empty and no run is left.")] = False,
    postgres: Annotated[bool, typer.Option(help="Prefect server on PostgreSQL (else SQLite).")] = True,
) -> None:
    """Start PostgreSQL, the Prefect server, the work pool and WORKERS workers, and dispatch the inbox to them."""
    from docval.logs import setup_logging
    from flows.cli import _settings
    from flows.cluster.dispatcher import cluster, runs_in_flight, stop_on_signals

    setup_logging("WARNING")
    settings = _settings(starting=True)
    stop = stop_on_signals()
    with cluster(settings, workers=workers, max_chunk=chunk, postgres=postgres, say=typer.echo) as running:
        if samples and not any(settings.inbox.iterdir()):
            from extractors.samples import write_sample_inbox

            typer.echo(f"sample inbox: {len(write_sample_inbox(settings.inbox))} files in {settings.inbox}")
        typer.echo(f"Prefect UI: {running.api_url.removesuffix('/api')}   (Ctrl-C stops everything)")
        idle = (lambda: runs_in_flight(settings) == 0) if exit_when_idle else None
        running.dispatcher.run(stop, idle=idle)
        typer.echo(f"dispatched {running.dispatcher.runs} flow runs; stopping workers, server and database")
    typer.echo("cluster stopped cleanly")


@cluster_app.command("db")
def db(action: Annotated[str, typer.Argument(help="create | start | stop")]) -> None:
    """Create, start or stop the PostgreSQL cluster under the data directory (127.0.0.1 only)."""
    from docval.settings import load_settings
    from flows.cluster.postgres import Postgres

    database = Postgres.of(load_settings())
    if action == "create":
        typer.echo("created" if database.create() else "already exists")
    elif action == "start":
        database.start()
    elif action == "stop":
        database.stop()
    else:
        raise typer.BadParameter(f"unknown action {action!r}: use create, start or stop")
    typer.echo(f"PostgreSQL {'running' if database.running() else 'stopped'} on 127.0.0.1:{database.port}")
