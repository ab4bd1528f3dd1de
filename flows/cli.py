"""``docval`` commands of flows/: up, watch, process (approvals: ``flows/approvals/cli.py``).

Heavy imports (Prefect, the models) happen inside the command bodies so that
``docval --help`` stays fast.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from docval.names import shown
from flows.errors import FlowError

if TYPE_CHECKING:
    from collections.abc import Callable

    from docval.settings import Settings

__all__ = ["register"]


def up(
    samples: Annotated[bool, typer.Option(help="Write the sample inbox on the first start.")] = True,
) -> None:
    """Start the appliance: Prefect server + UI, served deployments, the watcher (Ctrl-C stops it)."""
    from docval.logs import setup_logging
    from flows.appliance import up as run_up

    setup_logging("WARNING")
    run_up(_settings(starting=True), samples=samples, say=lambda text: typer.echo(text))


def watch(
    exit_when_idle: Annotated[bool, typer.Option(help="Stop once the inbox and work area are empty.")] = False,
) -> None:
    """Run only the watcher/worker against an already running Prefect server (`docval up` runs it for you)."""
    from docval.logs import setup_logging

    setup_logging("WARNING")
    settings = _ready()
    from flows.approvals.deadlines import schedule_next_deadline
    from flows.batch import process_batch, worker_context
    from flows.inprocess import run_created
    from flows.worker import Worker

    stop = threading.Event()
    worker = Worker(
        worker_context(),
        process=lambda docs, resumed: run_created(process_batch, None, {"doc_ids": docs, "resumed": resumed}),
        request_approvals=lambda docs: schedule_next_deadline(settings),
    )
    try:
        worker.run(stop, exit_when_idle=exit_when_idle)
    except KeyboardInterrupt:
        stop.set()
    typer.echo(f"watch stopped; {len(worker.states)} documents handled in {settings.data_dir}")


def process(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders of them.")],
    wait: Annotated[
        bool, typer.Option(help="Process now and block until every document has a state (needs no running appliance).")
    ] = False,
    move: Annotated[bool, typer.Option(help="Move the files into docval instead of copying them.")] = False,
) -> None:
    """Claim copies of files and run them through the processing flow; prints a summary table with --wait.

    Beside a running ``docval up`` on the same data directory the appliance's worker takes them (its models are
    warm); otherwise this command does the work itself.
    """
    from flows.standalone import input_files, prefect_for_batch, staged

    settings = _settings(starting=True)
    files = input_files(paths)
    if _processed_by_appliance(settings, files, wait=wait, move=move):
        return
    from flows.appliance import prepare  # not before: handing over needs none of it (~0.2 s of imports)

    if not wait:
        _require_server(settings)
    with prefect_for_batch(settings) as server_ready:
        prepare(settings)
        with staged(files, settings.work_dir, move=move) as inputs:
            _claim_and_run(settings, inputs, wait=wait, server_ready=server_ready)


def _processed_by_appliance(settings: Settings, files: list[Path], *, wait: bool, move: bool) -> bool:
    """Hand the files to the running appliance (flows/handoff.py); False if none listens on this data directory.

    It claims them on its worker's loop and runs them as its next batch, with the models it has loaded; this
    process imports neither Prefect nor the models. A batch the appliance could not finish raises FlowError.
    """
    from flows.handoff import MAX_FILES, handing_over
    from flows.standalone import progress, staged

    if not files or len(files) > MAX_FILES:
        return False
    with handing_over(settings) as hand:
        if hand is None:
            return False
        typer.echo(f"handing {len(files)} files to the running appliance (docval up)", err=True)
        with staged(files, settings.work_dir, move=move) as inputs:
            handed = hand(inputs, wait)
        from flows.outbox import outbox_path  # while the appliance works: it imports DuckDB and the domain models

        if not wait:
            typer.echo(
                f"claimed {len(handed.docs)} documents; the running appliance processes them now, "
                f"their results appear in {settings.outbox}"
            )
            _print_refused(settings, handed.refused)
            return True
        with progress(handed.docs, lambda doc: outbox_path(settings, doc).exists()):
            handed.states()
    unexpected = _print_summary(settings, handed.docs)
    _print_refused(settings, handed.refused)
    raise typer.Exit(1 if unexpected else 0)


def _claim_and_run(settings: Settings, files: list[Path], *, wait: bool, server_ready: Callable[[], None]) -> None:
    """Models load while a temporary server starts; nothing is claimed before it answers, so a server that
    does not start leaves the files where they were."""
    from flows.approvals.deadlines import schedule_next_deadline
    from flows.batch import process_batch, worker_context
    from flows.inprocess import run_created
    from flows.outbox import outbox_path
    from flows.standalone import progress
    from flows.worker import Worker

    worker = Worker(
        worker_context(),
        process=lambda docs, resumed: run_created(process_batch, None, {"doc_ids": docs, "resumed": resumed}),
        request_approvals=lambda docs: schedule_next_deadline(settings),
        parse_ahead=wait,
    )
    server_ready()
    docs = worker.claim(files)
    if worker.backlog:  # the files are in work/ but their claims are not ledgered: say so, do not go on
        raise _left_in_work(worker.backlog.cause)
    if not wait:
        from prefect.deployments import run_deployment

        run = run_deployment("process-batch/batch", parameters={"doc_ids": docs}, timeout=0, as_subflow=False)
        typer.echo(f"claimed {len(docs)} documents; flow run {run.id}")
        return
    try:
        with progress(docs, lambda doc: outbox_path(settings, doc).exists()):
            worker.run_batch(docs, resumed=False)
    except Exception as exc:  # infrastructure (server, disk, lock): each document's own failures are quarantined
        raise _left_in_work(f"batch of {len(docs)} documents: {type(exc).__name__}: {str(exc)[:300]}") from exc
    unexpected = _print_summary(settings, docs)
    _print_refused(settings, worker.refused)
    raise typer.Exit(1 if unexpected else 0)


def _print_refused(settings: Settings, refused: list[tuple[str, str]]) -> None:
    for source, reason in refused:
        typer.echo(f"not claimed: {source} ({reason}); quarantined with a reason file in {settings.quarantine_dir}")


def _left_in_work(cause: str) -> FlowError:
    return FlowError(f"{cause}; the documents stay in work/ and `docval watch` or `docval up` resumes them")


def _settings(*, starting: bool = False) -> Settings:
    """Settings, with the appliance's Prefect environment exported first.

    Prefect fixes its settings when it is first imported, and several flows modules import it: a command
    that imported one before exporting the environment would talk to a throw-away ephemeral server.
    A command ``starting`` work refuses a data directory others can write (docval.private).
    """
    from docval.private import refuse_shared
    from docval.settings import load_settings
    from flows.env import apply_prefect_env

    settings = load_settings()
    if starting:
        refuse_shared(settings.data_dir)
    apply_prefect_env(settings)
    return settings


def _ready(*, prepare_config: bool = True) -> Settings:
    """Settings with the Prefect environment applied and a server answering (started if local and down)."""
    settings = _settings(starting=True)
    from flows.appliance import prepare

    if prepare_config:
        prepare(settings)
    _require_server(settings)
    return settings


def _require_server(settings: Settings) -> None:
    from flows.server import server_healthy

    if not server_healthy(settings.flows.prefect_api_url):
        raise FlowError(
            f"no Prefect server at {settings.flows.prefect_api_url}; start the appliance with `docval up` "
            "(or run a batch on its own with `docval process PATH --wait`)"
        )


def _print_summary(settings: Settings, docs: list[str]) -> bool:
    """One line per document from its outbox file; True if any hit an unexpected error."""
    from docval.domain import DocumentResult
    from flows.outbox import outbox_path

    unexpected = False
    typer.echo(f"{'doc':<14}{'source':<38}{'kind':<10}{'state':<19}findings")
    for doc in docs:
        result = DocumentResult.model_validate_json(outbox_path(settings, doc).read_text(encoding="utf-8"))
        codes = sorted({finding.code for finding in result.findings})
        unexpected |= "INTERNAL_ERROR" in codes
        typer.echo(f"{doc[:12]:<14}{shown(result.source)[:36]:<38}{result.kind:<10}{result.state:<19}{','.join(codes)}")
    typer.echo(f"{len(docs)} new documents")
    return unexpected


def register(app: typer.Typer) -> None:
    from flows.approvals.cli import register as register_approvals
    from flows.cluster.cli import cluster_app

    for command in (up, watch, process):
        app.command()(command)
    register_approvals(app)
    app.add_typer(cluster_app, name="cluster")
