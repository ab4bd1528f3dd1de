"""Ingest extracts each document in the sandbox child that parsed it, but only when nothing leaves the machine.

Real sandboxed parsing of real shared PDFs and samples, the real trained tier; stages run as plain calls (the
behaviour is below Prefect). The child's extraction must be the one this process would compute. With an endpoint
model tier configured (a real chat-completions server on 127.0.0.1) nothing may be sent for a document before its
ingest is ledgered, so ingest must not read ahead, in the child or here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from docval.events import EntryKind, ExtractedPayload
from docval.settings import Settings, load_settings
from flows.batch import build_context
from flows.pipeline import Context, DocWork, extract, ingest, load_batch
from flows.toolkit import Ingested
from flows.worker import Worker
from ledger import Ledger
from tests.extractors.extract_chat_server import Behaviour, ChatServer

REAL = [
    "zugferd/pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf",
    "zugferd/pdfs/ZUGFeRDv1/correct/Mustangproject/MustangGnuaccountingBeispielRE-20140703_502.pdf",
]


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.stop()


def _claimed_batch(settings: Settings, shared_data: Path, tmp_path: Path) -> tuple[Context, list[DocWork]]:
    from extractors.samples import write_sample_inbox
    from flows.appliance import prepare

    prepare(settings)
    ctx = build_context(settings)
    samples = [s for s in write_sample_inbox(tmp_path / "samples", count=3) if not s.ocr]
    paths = [tmp_path / "samples" / s.file for s in samples]
    for name in REAL:  # claiming moves a file: copies, never the shared corpus itself
        paths.append(tmp_path / "samples" / Path(name).name)
        shutil.copyfile(shared_data / name, paths[-1])
    docs = Worker(ctx, process=lambda d, r: {}, request_approvals=lambda d: None).claim(paths)
    return ctx, load_batch(ctx, docs, resumed=False)


def test_ingest_reads_ahead_and_extract_records_the_same_extraction(
    settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    ctx, batch = _claimed_batch(settings, shared_data, tmp_path)
    ingest(ctx, batch)
    assert all(work.pdf.extraction is not None for work in batch)  # by the child that parsed it
    # what this process computes from the same pages: the extract stage's result before extraction moved
    fresh = {work.doc: ctx.kit.extract(Ingested(work.pdf.document))[1] for work in batch}
    extract(ctx, batch)
    assert all(work.extraction is not None for work in batch)
    entries = [e for e in Ledger.open(settings).entries() if e.kind == EntryKind.EXTRACTED]
    recorded = {e.doc: ExtractedPayload.model_validate(e.data) for e in entries}
    assert recorded == fresh and len(recorded) == len(batch)


def test_no_read_ahead_when_an_endpoint_tier_could_be_called(
    settings: Settings,
    shared_data: Path,
    chat_server: ChatServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat_server.default = Behaviour(answer={})
    for name, value in {"ENABLED": "true", "BASE_URL": chat_server.base_url, "MODEL": "local-test"}.items():
        monkeypatch.setenv(f"DOCVAL_EXTRACT__ROUTER__LOCAL__{name}", value)
    loaded = load_settings()
    ctx, batch = _claimed_batch(loaded, shared_data, tmp_path)
    ingest(ctx, batch)
    assert all(work.pdf.extraction is None for work in batch)
    assert chat_server.requests == []  # nothing sent before each document's ingest is in the ledger
    extract(ctx, batch)
    assert chat_server.requests  # the tier is really configured and called once extraction runs
    ctx.kit.router.close()
