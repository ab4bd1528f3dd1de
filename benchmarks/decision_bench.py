"""A person's decision → the published outbox record, against a running appliance (issues 12/13: median ≤ 3 s).

    python benchmarks/decision_bench.py [--seeds 3]

Starts ``docval up`` in a fresh data directory (its own Prefect port and workbench port), lets it process the
sample inbox and ``--seeds`` more sample sets (distinct bytes; the KYC forms and invoices with findings wait
for people), then decides every waiting document along two paths and times each, from the start of the
decision that completes the round to the outbox record showing ``published`` or ``rejected``:

- CLI: ``docval approve DOC --key … --reason …`` as a subprocess (a fresh interpreter each time, as a person
  runs it); the command has the running appliance mask its reason, records the signed decision and hands the
  document to the appliance, which publishes it in-process (``flows.handoff``);
- workbench: what the workbench's decide route does after the passkey assertion checks out, in this process:
  the approvals core records the decision (``flows.approvals.decide``, an SSH signature standing in for the
  passkey's, whose verification costs milliseconds) and the publish function ``docval up`` hands the
  workbench (``flows.reviewing.publisher``) runs the publish flow in a thread.

Each path is split into the decision (recorded and publishing started) and the rest (publish run to outbox).

Documents over ``two_approvers_over`` need bob and then carol; bob's first approval is not timed. Baseline in
the same run: ``python -c pass`` (the interpreter start every CLI decision pays).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docval.settings import Settings

PUBLISHED_WITHIN = 120.0


def _env(data_dir: Path) -> dict[str, str]:
    from flows.env import free_port

    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DOCVAL_DATA_DIR": str(data_dir),
        "DOCVAL_FLOWS__PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "DOCVAL_WORKBENCH__PORT": str(free_port()),
    }


class Appliance:
    """``docval up`` as a subprocess, its output read line by line."""

    def __init__(self, env: dict[str, str], options: tuple[str, ...] = ()) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docval", "up", *options],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()

    def wait_for(self, fragment: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if fragment in self.lines.get(timeout=1):
                    return
            except queue.Empty:
                if self.process.poll() is not None:
                    raise SystemExit("docval up stopped; see its prefect/serve.log") from None
        raise SystemExit(f"{fragment!r} not printed within {timeout:g} s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(120)


def _settled(settings: Settings, want: int, timeout: float = 900) -> None:
    """Wait until ``want`` documents have a final or waiting state."""
    from docval.store import DocumentStore

    deadline = time.monotonic() + timeout
    while sum(record.state is not None for record in DocumentStore(settings.store_db).all()) < want:
        if time.monotonic() > deadline:
            raise SystemExit("the appliance did not process the sample sets in time")
        time.sleep(1)


def _final(settings: Settings, doc: str) -> bool:
    from flows.outbox import outbox_path

    try:
        return json.loads(outbox_path(settings, doc).read_bytes())["state"] in {"published", "rejected"}
    except (OSError, ValueError):
        return False


def _until_published(settings: Settings, doc: str, started: float) -> float:
    while not _final(settings, doc):
        if time.monotonic() - started > PUBLISHED_WITHIN:
            raise SystemExit(f"document {doc[:12]} was not published within {PUBLISHED_WITHIN:g} s")
        time.sleep(0.02)
    return time.monotonic() - started


def _cli(env: dict[str, str], doc: str, key: Path, cpu: list[float]) -> str:
    """``docval approve`` as a person runs it; appends the command's CPU time (user+sys, ssh-keygen included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "docval", "approve", doc[:16], "--key", str(key), "--reason", "checked"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"docval approve failed: {done.stdout}{done.stderr}")
    return done.stdout


def _in_process(settings: Settings, publish: Callable[[str], None], doc: str, key: Path) -> str:
    from flows.approvals.decide import decide

    decided = decide(settings, doc, key, "approve", "checked")
    if decided.recorded is None or not decided.recorded.accepted:
        raise SystemExit(decided.message)
    if decided.recorded.state.outcome:
        publish(doc)
    return decided.message


def _time_decisions(
    settings: Settings, docs: list[str], keys: Path, approve: Callable[[str, Path], str]
) -> tuple[list[float], list[float]]:
    """Per document: seconds from the completing decision to the published record, and of the decision alone."""
    from approvals.state import fold_state
    from flows.approvals.states import ledger_of

    timings, deciding = [], []
    for doc in docs:
        state = fold_state(doc, ledger_of(settings, None).entries_for_doc(doc))
        if state.approvals_required > 1:
            approve(doc, keys / "bob")  # the first of two approvals publishes nothing: not timed
        started = time.monotonic()
        approve(doc, keys / ("carol" if state.approvals_required > 1 else "bob"))
        deciding.append(time.monotonic() - started)
        timings.append(_until_published(settings, doc, started))
    return timings, deciding


def _summary(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:<34} n={len(ordered):>3}  median {statistics.median(ordered):6.2f} s  p95 {p95:6.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="Sample sets dropped besides the first-start inbox.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="docval-decision-") as tmp:
        env = _env(Path(tmp) / "var")
        os.environ.update({k: v for k, v in env.items() if k.startswith("DOCVAL_")})
        from docval.settings import load_settings
        from extractors.samples import write_sample_inbox
        from flows.approvals.enrol import demo_keys_dir
        from flows.approvals.pending import pending_rows
        from flows.env import apply_prefect_env
        from flows.reviewing import publisher

        appliance = Appliance(env)
        try:
            appliance.wait_for("reviewer workbench: ")
            settings = load_settings()
            apply_prefect_env(settings)
            dropped = 0
            for seed in range(1, args.seeds + 1):
                staging = Path(tmp) / f"seed-{seed}"
                for sample in write_sample_inbox(staging, seed=1000 + seed):
                    os.replace(staging / sample.file, settings.inbox / f"s{seed}-{sample.file}")
                    dropped += 1
            _settled(settings, want=dropped)  # plus the first-start samples, counted as they settle
            time.sleep(5)
            waiting = [row["doc"] for row in pending_rows(settings)]
            half = len(waiting) // 2
            keys = demo_keys_dir(settings)
            start = time.monotonic()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            baseline = time.monotonic() - start
            cli_cpu: list[float] = []
            cli, cli_deciding = _time_decisions(
                settings, waiting[:half], keys, lambda doc, key: _cli(env, doc, key, cli_cpu)
            )
            publish = publisher(settings)
            bench, bench_deciding = _time_decisions(
                settings, waiting[half:], keys, lambda doc, key: _in_process(settings, publish, doc, key)
            )
        finally:
            appliance.stop()
    print(f"waiting documents decided: {len(waiting)}  (load average {os.getloadavg()[0]:.1f})")
    print(_summary("CLI docval approve → published", cli))
    print(_summary("  of which the command itself", cli_deciding))
    print(_summary("  the command's CPU time", cli_cpu))
    print(_summary("workbench path → published", bench))
    print(_summary("  of which recording the decision", bench_deciding))
    print(f"baseline: python -c pass {baseline:.2f} s (each CLI decision starts an interpreter)")
    print(f"bar: median ≤ 3 s — CLI {'holds' if statistics.median(cli) <= 3 else 'MISSED'}, "
          f"workbench {'holds' if statistics.median(bench) <= 3 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
