"""The served deployments: ``python -m flows.serve`` (started by ``docval up``).

No work pool, no Docker, no cloud: ``prefect.serve`` registers the
deployments on the local server and runs each triggered or scheduled run in a
child process. Schedules are stored on the server, so they can be edited in
the UI. The report deployment is defined by reports/ in ``flows/report_flow.py``; ``anchor-shards/interval``
folds ledger shards into the root ledger (a no-op pass on a single machine without shards).
"""

from __future__ import annotations

from docval.settings import Settings, load_settings
from flows.env import apply_prefect_env

__all__ = ["deployments", "main"]

CHECKPOINT_SECONDS = 60
RETENTION_CRON = "30 3 * * *"


def deployments(settings: Settings) -> list:
    from flows.anchor import anchor_shards_flow
    from flows.approvals.deadlines import approval_deadlines
    from flows.approvals.publish import publish_decision
    from flows.batch import process_batch
    from flows.maintenance import extraction_eval, ledger_checkpoint, retention_sweep
    from flows.report_flow import report_deployment

    return [
        process_batch.to_deployment(name="batch", description="Process claimed documents by id (the watcher's flow)."),
        publish_decision.to_deployment(name="publish", description="Publish or reject one decided document."),
        approval_deadlines.to_deployment(name="next-deadline", description="Escalate overdue approvals (scheduled)."),
        ledger_checkpoint.to_deployment(name="scheduled", interval=CHECKPOINT_SECONDS),
        anchor_shards_flow.to_deployment(name="interval", interval=settings.flows.anchor_seconds),
        retention_sweep.to_deployment(name="nightly", cron=RETENTION_CRON),
        extraction_eval.to_deployment(name="on-demand", description="Extraction accuracy on a labelled corpus."),
        report_deployment(),
    ]


def main() -> None:
    settings = load_settings()
    apply_prefect_env(settings)
    from prefect import serve

    serve(*deployments(settings), limit=settings.flows.serve_limit, print_starting_message=False)


if __name__ == "__main__":
    main()
