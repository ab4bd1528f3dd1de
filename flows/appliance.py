"""``docval up``: the whole appliance in one command, and the start-up steps the other commands share.

Start order: configuration (keys, default policy, demo identities on a new
installation; invalid files stop here with the line at fault) → Prefect server
under the data directory → served deployments (a ``python -m flows.serve``
child) → decided documents published and the next approval deadline scheduled
(waiting documents need no runs: their state is in the ledger) → sample inbox
on the very first start → the reviewer workbench in a thread and the hand-off
socket (flows/handoff.py) through which ``docval approve`` has its reason masked
and its decided document published here, and ``docval process`` hands its files
to the worker; the start-up lines → the worker. SIGINT and SIGTERM set one stop
flag; the worker finishes its current batch, then the children are stopped in
reverse order. Whatever was in flight is resumed by the next start (flows/worker.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from approvals.record import read_roster
from docval.hashing import KeyedHasher
from docval.names import shown
from docval.settings import Settings
from docval.shards import root_settings
from flows.env import apply_prefect_env, prefect_env, prefect_home
from flows.errors import FlowError
from flows.policy import DEFAULT_POLICY_YAML, load_policy
from flows.reviewing import served_workbench, start_lines
from ledger import Ledger, init_keys
from ledger.keys import anchor_path, load_signing_key, signing_key_path

__all__ = ["ServeProcess", "prepare", "serving", "up"]

SAMPLES_MARKER = ".samples-written"
DEMO_MAKER = "alice"  # the demo submitter (``flows.approvals.enrol.DEMO_PEOPLE``)


def prepare(settings: Settings, *, demo: bool = True) -> Path | None:
    """Folders, secrets and configuration, created on first start and validated on every start.

    ``demo``: enrol the demo identities if nobody is enrolled yet; returns the folder of their keys then.
    """
    settings.ensure_dirs()
    KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    if not anchor_path(settings.ledger_keys_dir).exists():
        init_keys(settings.ledger_keys_dir, settings.ledger.key_name)
    _check_signing_key(settings)
    policy_path = settings.resolve(settings.flows.policy_file)
    if not policy_path.exists():
        policy_path.write_text(DEFAULT_POLICY_YAML, encoding="utf-8")
    load_policy(policy_path)
    from flows.approvals.applied import apply_configuration
    from flows.approvals.enrol import ensure_demo_people

    folder = ensure_demo_people(settings) if demo else None
    if read_roster(Ledger.open(root_settings(settings))).version:  # `init --admin` ledgers its anchor first
        apply_configuration(settings)
    return folder


def _check_signing_key(settings: Settings) -> None:
    """Refuse to start without a usable ledger key: no checkpoint could be signed, so no document would finish."""
    path = signing_key_path(settings.ledger_keys_dir)
    if not path.exists():
        raise FlowError(
            f"{path}: the ledger signing key is missing while its verifier key {anchor_path(path.parent).name} is "
            "there; restore the key file from your backup (a new key would not match this ledger)"
        )
    load_signing_key(path)  # refuses a mode wider than 0600, a malformed file or a wrong key id


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, settings: Settings, *, anchor: bool = False) -> ServeProcess:
        """``anchor``: serve the shard anchor even before any shard exists (a cluster's workers create them)."""
        from flows.serve import ANCHOR_FLAG

        log_path = prefect_home(settings) / "serve.log"
        env = {**os.environ, **prefect_env(settings)}
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flows.serve", *([ANCHOR_FLAG] if anchor else [])],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(process)

    def wait_for_deployment(self, name: str, timeout: float = 60.0) -> None:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while True:
                try:
                    client.read_deployment_by_name(name)
                    return
                except ObjectNotFound:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise FlowError("the served deployments did not come up; see prefect/serve.log") from None
                    time.sleep(0.5)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # serve ignores SIGINT when not in a terminal
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def serving(settings: Settings) -> Iterator[ServeProcess]:
    """Server (started if needed) and served deployments for the length of the block."""
    from flows.approvals.publish import PUBLISH_DEPLOYMENT
    from flows.server import PrefectServer

    server = PrefectServer.ensure(settings)
    serve = ServeProcess.start(settings)
    try:
        serve.wait_for_deployment(PUBLISH_DEPLOYMENT)
        yield serve
    finally:
        serve.stop()
        server.stop()


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def resume_approvals(settings: Settings) -> int:
    """At start-up: publish what was decided while nothing ran, schedule the next deadline; how many published."""
    from flows.approvals.deadlines import schedule_next_deadline
    from flows.approvals.publish import sweep

    finished = sweep(settings)
    schedule_next_deadline(settings)
    return finished


def _sample_folder(settings: Settings) -> Path:
    """The demo maker's own inbox folder when the demo people are enrolled (so she can never approve them)."""
    from flows.makers import enrolled_people

    return settings.inbox / DEMO_MAKER if DEMO_MAKER in enrolled_people(settings) else settings.inbox


def up(settings: Settings, *, samples: bool = True, say: Callable[[str], None] = print) -> None:
    demo = prepare(settings)
    if demo is not None:
        say(f"demo identities erin (admin), alice, bob, carol, dave: marked demo in the ledger; keys in {demo}")
    apply_prefect_env(settings)
    stop = threading.Event()
    _stop_on_signals(stop)
    with serving(settings):
        from flows.approvals.deadlines import schedule_next_deadline
        from flows.batch import process_claimed, worker_context
        from flows.inprocess import one_client
        from flows.worker import Worker

        ctx = worker_context()
        restarted = resume_approvals(settings)
        marker = settings.data_dir / SAMPLES_MARKER
        if samples and not marker.exists():
            from extractors.samples import write_sample_inbox

            written = write_sample_inbox(_sample_folder(settings))
            marker.write_text("written\n")
            say(f"sample inbox: {len(written)} files in {settings.inbox}")
        worker = Worker(
            ctx,
            process=process_claimed,
            request_approvals=lambda docs: schedule_next_deadline(settings),
            on_idle=lambda: say(status_text(settings)),
        )
        with served_workbench(settings, worker.hand_in) as workbench:
            for line in start_lines(settings, workbench=workbench, prefect_ui=ui_url(settings), cli=docval_command()):
                say(line)
            if restarted:
                say(status_text(settings))
            with one_client():
                worker.run(stop)
    say("docval stopped cleanly")


def ui_url(settings: Settings) -> str:
    return settings.flows.prefect_api_url.removesuffix("/api")


def status_text(settings: Settings) -> str:
    """What a new user needs after a burst of documents: counts, who waits, the command to try."""
    from docval.store import DocumentStore
    from flows.approvals.enrol import demo_keys_dir
    from flows.approvals.pending import pending_rows

    records = DocumentStore(settings.store_db).all()
    counts: dict[str, int] = {}
    for record in records:
        state = record.state.value if record.state else "in progress"
        counts[state] = counts.get(state, 0) + 1
    lines = ["documents: " + ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))]
    rows = pending_rows(settings)
    if rows:
        lines.append(f"waiting for approval ({len(rows)}); `docval pending` explains why:")
        lines += [
            f"  {row['doc'][:12]}  {shown(row['source']):<36} {len(row['approvals'])}/{row['approvals_required']}"
            f" approvals  rule {row['rule']}  queue {row['queue']}"
            for row in rows
        ]
        first, keys, cli = rows[0]["doc"][:12], demo_keys_dir(settings), docval_command()
        lines.append(f"try:  {cli} approve {first} --key {keys}/bob --reason 'matches the order'")
        lines.append(f"      {cli} reject {first} --key {keys}/carol --reason 'wrong supplier'   (demo keys)")
    return "\n".join(lines)


def docval_command() -> str:
    """How the person reading our hints can call docval: ``docval`` if on PATH, else the path `make run` used."""
    if shutil.which("docval"):
        return "docval"
    script = Path(sys.argv[0])
    if script.name == "docval":
        return os.path.relpath(script)
    return f"{os.path.relpath(sys.executable)} -m docval"
