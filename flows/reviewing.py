"""The reviewer workbench inside ``docval up``: served from a thread of the appliance, publishing through flows.

``workbench/`` never imports Prefect; this module hands it a publish function (the approvals' publish
flow, run in this process: ``publisher``) and the lookup of each document's home ledger (``home_ledgers``:
a cluster shard's documents are decided in their shard), and runs its uvicorn server in a daemon thread,
stopped with the appliance, beside the socket through which ``docval approve`` hands the same publisher its
decided documents and the workbench's PII engine its reasons (``flows.handoff``). It also writes
the start-up lines a new user needs: where to drop files, where results appear, where to review (with a
one-time demo invitation on a demo installation), the Prefect UI and the commands to try next.
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from approvals.record import read_roster
from docval.settings import Settings
from docval.shards import root_settings, shard_names, shard_settings
from flows.approvals.states import ledger_of
from flows.audit import Audit, Ledgers
from flows.errors import FlowError

if TYPE_CHECKING:
    import uvicorn
    from prefect.client.schemas.objects import FlowRun

    from flows.handoff import Process
    from ledger import Ledger

__all__ = ["DEMO_REVIEWER", "demo_invitation", "home_ledgers", "publisher", "served_workbench", "start_lines"]

log = logging.getLogger(__name__)

DEMO_REVIEWER = "bob"
DEMO_ADMIN = "erin"
START_SECONDS = 20.0


def publisher(settings: Settings) -> Callable[[str], str | None]:
    """The appliance's publish function: the approvals' publish flow, run in a thread of this process.

    The workbench gets it handed in, and ``docval approve`` reaches it through ``flows.handoff``. It
    creates a run of ``publish-decision/publish`` (Pending, so the serving process leaves it alone) and runs it
    here, without the serving process's child-process start (about 2 s), so a decision reaches the outbox
    within the 3 s bar (``benchmarks/decision_bench.py``); it returns the run's id once the run exists.
    Publishing is idempotent and derived from the ledger: if the thread fails or the appliance stops
    half-way, the deadline runs and the next start's sweep finish it.
    """

    def publish(doc: str) -> str | None:
        from flows.approvals.publish import PUBLISH_DEPLOYMENT
        from flows.inprocess import pending_run

        parameters = {"doc_id": doc, "shard": Ledgers(settings).homes([doc]).get(doc)}
        run = pending_run(PUBLISH_DEPLOYMENT, parameters, name=f"publish-{doc[:16]}")
        threading.Thread(target=_publish_here, args=(run, parameters), name=f"publish-{doc[:12]}", daemon=True).start()
        return None if run is None else str(run.id)

    return publish


def home_ledgers(settings: Settings) -> Callable[[list[str]], dict[str, Ledger]]:
    """The workbench's home lookup (``workbench.Homes``): the shard ledger of each document a shard holds.

    Documents of the root are left out (the workbench reads those from its own root ledger), so only the
    shards are asked: one ``doc.claimed`` query per shard for a whole queue page, none without a cluster.
    Shards that appear while the appliance runs are found; each is opened once. A document's shard never
    changes once it is claimed there, so each one found is remembered and not asked for again.
    """
    root = root_settings(settings)
    opened: dict[str, tuple[Audit, Ledger]] = {}
    known: dict[str, Ledger] = {}

    def homes(docs: list[str]) -> dict[str, Ledger]:
        for name in shard_names(root):
            if name not in opened:
                opened[name] = (Audit(shard_settings(root, name)), ledger_of(root, name))
            audit, ledger = opened[name]
            known.update(dict.fromkeys(audit.claimed([doc for doc in docs if doc not in known]), ledger))
        return {doc: known[doc] for doc in docs if doc in known}

    return homes


def _publish_here(run: FlowRun | None, parameters: dict[str, Any]) -> None:
    from flows.approvals.publish import publish_decision
    from flows.inprocess import run_created

    try:
        run_created(publish_decision, run, parameters)
    except Exception as exc:  # the decision stands; the sweep publishes what a failed run left
        doc = parameters["doc_id"]
        log.error("publishing %s did not finish (%s); the next sweep publishes it", doc[:12], type(exc).__name__)


@contextmanager
def served_workbench(settings: Settings, process: Process | None = None) -> Iterator[str]:
    """The workbench answering on its port, and the hand-offs of ``docval approve`` and ``docval process``
    (``process``: the worker's ``hand_in``), for the length of the block; its URL.

    Both share the publisher and the workbench's warm PII engine (flows/handoff.py). A port already
    taken (another appliance, ``docval review``) stops the start with what to do, rather than an appliance
    whose reviewers cannot reach it.
    """
    from flows.handoff import listening
    from workbench.app import build_server, workbench_url

    publish = publisher(settings)
    server = build_server(settings, publish, home_ledgers(settings))
    thread = threading.Thread(target=_run, args=(server,), name="workbench", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise FlowError(
                f"the reviewer workbench could not listen on {settings.workbench.host}:{settings.workbench.port}; "
                "stop what uses that port or set [workbench] port in docval.toml"
            )
        time.sleep(0.05)
    try:
        with listening(settings, publish, server.config.app.state.workbench.mask_reason, process):
            yield workbench_url(settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _run(server: uvicorn.Server) -> None:
    """uvicorn ends a failed start (port taken) with ``sys.exit``; here that only ends this thread, as it should."""
    with contextlib.suppress(SystemExit):
        server.run()


def demo_invitation(settings: Settings) -> str | None:
    """A fresh one-time enrolment link for the demo reviewer, while they have no passkey; None otherwise.

    Only on a demo installation (the reviewer is a ledgered demo identity), invited by the demo admin, so a
    new user can try the workbench at once; each start replaces the previous unused link.
    """
    from flows.approvals.enrol import root_ledger
    from workbench.app import invite_link

    roster = read_roster(root_ledger(settings))
    reviewer, admin = roster.person(DEMO_REVIEWER), roster.person(DEMO_ADMIN)
    if reviewer is None or admin is None or not (reviewer.demo and admin.demo):
        return None
    if reviewer.key.get("kind") == "webauthn":
        return None
    roles = sorted(role.value for role in reviewer.roles)
    return invite_link(settings, DEMO_REVIEWER, roles, invited_by=DEMO_ADMIN)


def start_lines(settings: Settings, *, workbench: str, prefect_ui: str, cli: str) -> list[str]:
    """What ``docval up`` prints once everything answers: the paths, the addresses and the next commands."""
    from flows.approvals.enrol import demo_keys_dir

    demo_keys = demo_keys_dir(settings)
    lines = [
        f"drop files into: {settings.inbox.resolve()}",
        f"results appear in: {settings.outbox.resolve()}",
        f"reviewer workbench: {workbench}",
    ]
    invitation = demo_invitation(settings)
    if invitation is not None:
        lines.append(f"demo invitation: {invitation}   ({DEMO_REVIEWER}, one use; create a passkey there)")
        lines.append(
            f"  then confirm it: {cli} users confirm {DEMO_REVIEWER} FINGERPRINT --admin-key {demo_keys}/{DEMO_ADMIN}"
        )
    lines += [
        f"Prefect UI: {prefect_ui}   (Ctrl-C stops everything; the next start resumes)",
        f"waiting for people: {cli} pending",
        f"auditor report: {cli} report {_this_month()}",
    ]
    return lines


def _this_month() -> str:
    """``--from`` and ``--to`` of the current month, so the printed report command runs as it is."""
    today = datetime.now(UTC).date()
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    return f"--from {today.replace(day=1).isoformat()} --to {last.isoformat()}"
