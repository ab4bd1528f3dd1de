"""The ``process-files`` flow's own rules, without a server: which names it accepts, what it resumes (~5 s).

Parameters arrive over the Prefect API, so only plain inbox names are
accepted. A run first resumes documents its own shard claimed into the shared
``work/`` and never finished (a previous run of that worker died); documents
of other shards, or finished ones, are not its business.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docval.settings import Settings
from docval.shards import shard_settings
from flows.pool import _inbox_file, stranded


@pytest.mark.parametrize("name", ["", ".", "..", "../etc/passwd", "/etc/passwd", "a/b.pdf", ".hidden.pdf", "x\0.pdf"])
def test_names_that_could_leave_the_inbox_or_hide_are_refused(name: str) -> None:
    assert _inbox_file(Path("/data/inbox"), name) is None


def test_a_plain_name_is_an_inbox_file() -> None:
    assert _inbox_file(Path("/data/inbox"), "invoice 7 (copy).pdf") == Path("/data/inbox/invoice 7 (copy).pdf")


def test_only_this_shards_unfinished_claims_are_stranded(settings: Settings) -> None:
    from flows.appliance import prepare
    from flows.batch import build_context
    from flows.pipeline import load_batch, run_stages
    from flows.worker import Worker

    prepare(settings)
    contexts = {}
    for name in ("w1", "w2"):
        shard = shard_settings(settings, name)
        prepare(shard)
        contexts[name] = build_context(shard)
    ctx = contexts["w1"]

    def run(docs: list[str], resumed: bool) -> dict[str, str]:
        return {work.doc: work.state.value for work in run_stages(ctx, load_batch(ctx, docs, resumed=resumed))}

    paths = []
    for index in range(2):
        paths.append(settings.inbox / f"not-a-pdf-{index}.pdf")
        paths[-1].write_bytes(b"not a pdf %d" % index)
    worker = Worker(ctx, process=run, request_approvals=len)
    docs = worker.claim(paths)
    assert sorted(stranded(ctx)) == sorted(docs)  # claimed by w1, no final entry yet
    assert stranded(contexts["w2"]) == []  # w2's ledger never claimed them
    worker.run_batch([docs[0]], resumed=False)  # quarantined: a final entry
    assert stranded(ctx) == [docs[1]]
