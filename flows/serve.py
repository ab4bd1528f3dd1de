"""The served deployments: ``python -m flows.serve`` (started by ``docval up``).

No work pool, no Docker, no cloud: ``prefect.serve`` registers the
deployments on the local server and runs each triggered or scheduled run in a
child process. Schedules are stored on the server, so they can be edited in
the UI. The report deployment is defined by reports/ in ``flows/report_flow.py``; ``anchor-shards/interval``
folds ledger shards into the root ledger, and exists only where shards do (``--anchor``: a cluster, whose
workers create them; or shards already in the data directory).

Housekeeping stays quiet: an idle appliance creates at most 24 scheduled runs a day (the nightly retention
sweep and the monthly report; tests/flows/test_housekeeping.py counts them). Checkpoints belong to batches
(the worker signs one after each), so ``ledger-checkpoint/on-demand`` has no schedule; approval deadlines
are single runs scheduled for the next deadline (flows/approvals/deadlines.py).
"""

from __future__ import annotations

import sys

from docval.settings import Settings, load_settings
from docval.shards import shard_names
from flows.env import apply_prefect_env

__all__ = ["deployments", "main"]

ANCHOR_FLAG = "--anchor"
RETENTION_CRON = "30 3 * * *"


def deployments(settings: Settings, *, anchor: bool = False) -> list:
    """What ``prefect.serve`` registers; ``anchor``: also the shard anchor, as if shards existed (a cluster)."""
    from flows.anchor import anchor_shards_flow
    from flows.approvals.deadlines import approval_deadlines
    from flows.approvals.publish import publish_decision
    from flows.batch import process_batch
    from flows.maintenance import extraction_eval, ledger_checkpoint, retention_sweep
    from flows.report_flow import report_deployment

    served = [
        process_batch.to_deployment(name="batch", description="Process claimed documents by id (the watcher's flow)."),
        publish_decision.to_deployment(name="publish", description="Publish or reject one decided document."),
        approval_deadlines.to_deployment(name="next-deadline", description="Escalate overdue approvals (scheduled)."),
        ledger_checkpoint.to_deployment(name="on-demand", description="Sign a checkpoint now (batches sign theirs)."),
        retention_sweep.to_deployment(name="nightly", cron=RETENTION_CRON),
        extraction_eval.to_deployment(name="on-demand", description="Extraction accuracy on a labelled corpus."),
        report_deployment(),
    ]
    if anchor or shard_names(settings):
        served.append(anchor_shards_flow.to_deployment(name="interval", interval=settings.flows.anchor_seconds))
    return served


def main() -> None:
    settings = load_settings()
    apply_prefect_env(settings)
    from prefect import serve

    serve(
        *deployments(settings, anchor=ANCHOR_FLAG in sys.argv[1:]),
        limit=settings.flows.serve_limit,
        print_starting_message=False,
    )


if __name__ == "__main__":
    main()
