"""A batch runs its stages part by part while the sandbox children parse ahead, and the vault commits first.

Real sandboxed parsing of real shared PDFs and samples, the real trained tier and PII engine, real DuckDB and
SQLite files; stages run as plain calls (the behaviour is below Prefect). Parts are made small here so a handful
of documents spans several of them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import flows.pipeline as pipeline
from docval.events import EntryKind
from docval.settings import Settings
from flows.audit import Draft
from flows.batch import build_context
from flows.pipeline import Context, DocWork, load_batch, run_stages
from flows.worker import Worker

REAL = [
    "zugferd/pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf",
    "zugferd/pdfs/ZUGFeRDv1/correct/Mustangproject/MustangGnuaccountingBeispielRE-20140703_502.pdf",
]


def _claimed_batch(settings: Settings, shared_data: Path, tmp_path: Path) -> tuple[Context, list[DocWork]]:
    from extractors.samples import write_sample_inbox
    from flows.appliance import prepare

    prepare(settings)
    ctx = build_context(settings)
    folder = tmp_path / "in"
    samples = [s for s in write_sample_inbox(folder, count=4) if not s.ocr]
    paths = [folder / s.file for s in samples]
    for name in REAL:  # claiming moves a file: copies, never the shared corpus itself
        paths.append(folder / Path(name).name)
        shutil.copyfile(shared_data / name, paths[-1])
    docs = Worker(ctx, process=lambda d, r: {}, request_approvals=lambda d: None).claim(paths)
    return ctx, load_batch(ctx, docs, resumed=False)


def test_the_next_part_is_parsed_while_this_part_is_masked(
    settings: Settings, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PART", 2)
    ctx, batch = _claimed_batch(settings, shared_data, tmp_path)
    assert len(batch) >= 5
    seen: list[list[str]] = []  # at each mask call: the parse state of every document of the parts after it
    mask = ctx.kit.mask

    def watching_mask(extraction, doc):  # type: ignore[no-untyped-def]
        index = next(n for n, work in enumerate(batch) if work.doc == doc)
        later = batch[(index // 2 + 1) * 2 :]
        seen.append([_parse_state(work) for work in later])
        return mask(extraction, doc)

    monkeypatch.setattr(ctx.kit, "mask", watching_mask)
    run_stages(ctx, batch)
    first = seen[0]  # the first part is masked while every later document's parse is already queued or done
    assert "not started" not in first and ("running" in first or "done" in first)
    assert all(work.state is not None and work.parsing is None for work in batch)


def test_claimed_files_are_parsed_before_their_batch_asks(settings: Settings, tmp_path: Path) -> None:
    """The children parse while the worker records the claims and Prefect starts the flow run (flows/ahead.py), not
    only once the batch's ingest begins; a worker whose batch runs elsewhere starts nothing."""
    from concurrent.futures import wait

    from extractors.samples import write_sample_inbox
    from flows.appliance import prepare
    from flows.claim import work_pdf

    prepare(settings)
    ctx = build_context(settings)
    folder = tmp_path / "in"
    paths = [folder / s.file for s in write_sample_inbox(folder, count=4) if not s.ocr]
    ahead = Worker(ctx, process=lambda d, r: {}, request_approvals=len).claim(paths[:2])
    elsewhere = Worker(ctx, process=lambda d, r: {}, request_approvals=len, parse_ahead=False).claim(paths[2:])

    started = [ctx.kit.parses.take(work_pdf(settings.work_dir, doc)) for doc in ahead]
    assert all(future is not None for future in started), "claimed, but nothing parsing yet"
    done, _ = wait(started, timeout=120)
    assert all(future.result()[1].pages >= 1 for future in done) and len(done) == len(ahead)
    assert ctx.kit.parses.take(work_pdf(settings.work_dir, ahead[0])) is None, "a parse is handed out once"
    assert [ctx.kit.parses.take(work_pdf(settings.work_dir, doc)) for doc in elsewhere] == [None, None]


def test_a_claimed_file_is_parsed_while_the_next_ones_are_claimed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claiming reads and hashes each file: the children start on the first file claimed, not after the last."""
    import flows.worker
    from extractors.samples import write_sample_inbox
    from flows.appliance import prepare

    prepare(settings)
    ctx = build_context(settings)
    folder = tmp_path / "in"
    paths = [folder / s.file for s in write_sample_inbox(folder, count=3) if not s.ocr]
    parsing_at_each_claim: list[int] = []
    claim_file = flows.worker.claim_file

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        parsing_at_each_claim.append(len(ctx.kit.parses._held))
        return claim_file(*args, **kwargs)

    monkeypatch.setattr(flows.worker, "claim_file", watched)
    docs = Worker(ctx, process=lambda d, r: {}, request_approvals=len).claim(paths)
    assert len(docs) == len(paths) >= 3
    assert parsing_at_each_claim == list(range(len(paths)))


def _parse_state(work: DocWork) -> str:
    if work.parsing is None:
        return "not started" if work.pdf is None else "taken"
    return "done" if work.parsing.done() else "running" if work.parsing.running() else "queued"


def _outcomes(settings: Settings) -> dict[str, tuple[str, list[str], str]]:
    """Per document (by content): state, finding codes and fields as its outbox record holds them."""
    found = {}
    for path in settings.outbox.glob("*.json"):
        record = json.loads(path.read_text())
        codes = sorted(finding["code"] for finding in record["findings"])
        found[record["doc"]] = (record["state"], codes, json.dumps(record["fields"], sort_keys=True))
    return found


def test_parts_change_nothing_a_document_ends_with(
    settings: Settings, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, batch = _claimed_batch(settings, shared_data, tmp_path / "whole")
    run_stages(ctx, batch)  # one part: the whole batch
    whole = _outcomes(settings)
    monkeypatch.setenv("DOCVAL_DATA_DIR", str(tmp_path / "parts-data"))
    from docval.settings import load_settings

    parted = load_settings()
    parted.ensure_dirs()
    monkeypatch.setattr(pipeline, "PART", 2)
    ctx, batch = _claimed_batch(parted, shared_data, tmp_path / "parts")
    run_stages(ctx, batch)
    assert _outcomes(parted) == whole and len(whole) == len(batch)


def test_the_vault_commits_before_the_ledger_says_masked(
    settings: Settings, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, batch = _claimed_batch(settings, shared_data, tmp_path)
    committed: list[int] = []
    record = ctx.audit.record

    def watching_record(drafts: list[Draft]) -> list[int]:
        if any(draft.kind == EntryKind.MASKED for draft in drafts):
            with sqlite3.connect(ctx.kit.pii.vault.path) as other:  # what another process (a reveal) would see
                committed.append(other.execute("SELECT count(DISTINCT doc) FROM entries").fetchone()[0])
        return record(drafts)

    monkeypatch.setattr(ctx.audit, "record", watching_record)
    run_stages(ctx, batch)
    masked = [work for work in batch if work.fields and work.recorded(EntryKind.MASKED) is None]
    with_pii = sum(1 for work in masked if any("<" in str(field.value) for field in work.fields.values()))
    assert with_pii >= 1 and committed == [with_pii]


def test_mask_and_finish_find_their_analyses_made_during_ingest(
    settings: Settings, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker analyses each document's values and file name as its parse arrives, beside the children's
    parsing (``Toolkit.analyse_ahead``); the mask and finish stages, after the parsing on one core, then make no
    analysis of their own (tests/pii/test_pii_ahead.py: and mask what they would have masked)."""
    ctx, batch = _claimed_batch(settings, shared_data, tmp_path)
    running = [""]  # the stage running now
    made: dict[str, int] = {}
    presidio = ctx.kit.pii.analyzer.engine.analyze

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        made[running[0]] = made.get(running[0], 0) + 1
        return presidio(*args, **kwargs)

    def run_part(part: list[DocWork]) -> None:
        for stage in pipeline.STAGES:
            running[0] = stage.__name__
            stage(ctx, part)

    monkeypatch.setattr(ctx.kit.pii.analyzer.engine, "analyze", counted)
    pipeline.run_in_parts(ctx, batch, run_part)
    assert made.get("ingest", 0) > 0 and "mask" not in made and "finish" not in made, made
    assert all(work.state is not None for work in batch)


def test_a_duplicate_ahead_of_its_original_in_a_batch_is_still_found(settings: Settings, tmp_path: Path) -> None:
    """Claimed original first, the batch holding the duplicate first (a resumed batch's order): the part's invoices
    are keyed all at once, so the later claim is the duplicate (keyed one by one, neither was found)."""
    from extractors.samples import write_sample_inbox
    from flows.appliance import prepare

    prepare(settings)
    ctx = build_context(settings)
    folder = tmp_path / "in"
    samples = {s.file: folder / s.file for s in write_sample_inbox(folder)}
    pair = [samples["invoice-001.pdf"], samples["invoice-008-duplicate-number.pdf"]]  # same seller and number
    docs = Worker(ctx, process=lambda d, r: {}, request_approvals=len).claim(pair)
    batch = load_batch(ctx, list(reversed(docs)), resumed=False)
    run_stages(ctx, batch)
    codes = {work.doc: {finding.code for finding in work.findings} for work in batch}
    assert "DUPLICATE" in codes[docs[1]] and "DUPLICATE" not in codes[docs[0]]
