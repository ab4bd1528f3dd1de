"""Fault: the local model endpoint is down, slow, or answers garbage, seen from the whole pipeline.

A real chat-completions server on 127.0.0.1 (tests/extractors/extract_chat_server.py) or a port where
nothing listens. Documents run through every stage as plain calls (no Prefect: the fault is below it).
Each one must end decided — published, rejected or waiting for a person, with the policy rule that
decided it — never lost or quarantined; the failed calls are in the ledger's ``doc.extracted`` entry
with their error code, and once the circuit breaker opens later documents are not sent at all
(``CIRCUIT_OPEN``), so a dead endpoint costs ``breaker_failures`` calls, not one per document; the
operator gets one warning naming the endpoint when its circuit opens.
About 10 s per case (models load once per case).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowcheck import assert_exactly_once

from docval.domain import DocState
from docval.events import DecidedPayload, EntryKind, ExtractedPayload
from docval.settings import Settings, load_settings
from flows.batch import build_context  # imports Prefect, whose logging setup would drop caplog's handler mid-test
from flows.env import free_port
from ledger import Ledger
from tests.extractors.extract_chat_server import Behaviour, ChatServer

DOCS = 6
TIMEOUT = 1.0
RETRIES = 1
BREAKER = 2


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.stop()


def _router_env(monkeypatch: pytest.MonkeyPatch, base_url: str, **extra: str) -> Settings:
    values = {
        "LOCAL__ENABLED": "true",
        "LOCAL__BASE_URL": base_url,
        "LOCAL__MODEL": "local-test",
        "CALL_TIMEOUT_SECONDS": str(TIMEOUT),
        "MAX_RETRIES": str(RETRIES),
        "BACKOFF_SECONDS": "0.01",
        "BREAKER_FAILURES": str(BREAKER),
        "BREAKER_COOLDOWN_SECONDS": "600",
        **extra,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"DOCVAL_EXTRACT__ROUTER__{name}", value)
    from flows.appliance import prepare

    loaded = load_settings()
    prepare(loaded)
    return loaded


def _process(settings: Settings, tmp_path: Path) -> set[str]:
    """Claim sample documents and run one batch through every stage, as the worker does, minus Prefect."""
    from extractors.samples import write_sample_inbox
    from flows.pipeline import load_batch, run_stages
    from flows.worker import Worker

    ctx = build_context(settings)

    def process(docs: list[str], resumed: bool) -> dict[str, str]:
        return {work.doc: work.state.value for work in run_stages(ctx, load_batch(ctx, docs, resumed=resumed))}

    samples = write_sample_inbox(tmp_path / "samples", count=DOCS)
    paths = [tmp_path / "samples" / sample.file for sample in samples]
    worker = Worker(ctx, process=process, request_approvals=lambda docs: None)
    docs = worker.claim(paths)
    worker.run_batch(docs, resumed=False)
    assert not worker.backlog
    ctx.kit.router.close()
    return set(docs)


def _extracted_and_decided(settings: Settings, docs: set[str]) -> tuple[list[ExtractedPayload], list[DecidedPayload]]:
    entries = [entry for entry in Ledger.open(settings).entries() if entry.doc in docs]
    extracted = [ExtractedPayload.model_validate(e.data) for e in entries if e.kind == EntryKind.EXTRACTED]
    decided = [DecidedPayload.model_validate(e.data) for e in entries if e.kind == EntryKind.DECIDED]
    return extracted, decided


@pytest.mark.parametrize("fault", ["down", "slow", "garbage"])
def test_model_endpoint_fault_documents_still_decided_breaker_in_the_ledger(
    settings: Settings,
    chat_server: ChatServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    if fault == "down":
        base_url, code = f"http://127.0.0.1:{free_port()}/v1", "CONNECT"  # nothing listens there
    elif fault == "slow":
        base_url, code = chat_server.base_url, "TIMEOUT"
        chat_server.default = Behaviour(answer={}, delay=TIMEOUT * 3)
    else:
        base_url, code = chat_server.base_url, "MALFORMED"
        chat_server.default = Behaviour(raw_body=b"<html>502 from a proxy</html>")
    # without the trained tier every sample leaves a field weak and asks the endpoint: enough calls to open the
    # breaker whatever the calibration makes of the samples (KYC forms, calibrated, no longer ask at all)
    loaded = _router_env(monkeypatch, base_url, TRAINED_MODEL="false")
    with caplog.at_level(logging.WARNING, logger="extractors.llm"):
        docs = _process(loaded, tmp_path)
    assert len(docs) == DOCS
    opened = [r.getMessage() for r in caplog.records if "circuit open" in r.getMessage()]
    assert len(opened) == 1 and base_url in opened[0] and code in opened[0], opened  # one line per outage
    states = assert_exactly_once(loaded, docs)
    assert DocState.QUARANTINED not in states.values(), states
    extracted, decided = _extracted_and_decided(loaded, docs)
    assert len(decided) == DOCS and all(payload.rule for payload in decided)  # the rule that decided is recorded
    calls = [call for payload in extracted for call in payload.calls]
    assert calls and not any(call.ok for call in calls)
    errors = [call.error for call in calls]
    assert errors[:BREAKER] == [code] * BREAKER, errors
    assert set(errors[BREAKER:]) <= {"CIRCUIT_OPEN"} and errors[BREAKER:], errors  # later documents not sent
    for call in calls[:BREAKER]:  # each failed call gave up within its timeouts
        assert call.latency_ms <= (RETRIES + 1) * TIMEOUT * 1000 + 5000, call
    attempts = {"down": 0, "slow": RETRIES + 1, "garbage": 1}[fault]  # a garbage answer is not retried
    assert len(chat_server.requests) == BREAKER * attempts


def test_budget_stop_sends_to_review_with_the_reason_in_the_ledger(
    settings: Settings, chat_server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that would cost more than the per-document budget is not called; the reason is recorded."""
    monkeypatch.setenv("DOCVAL_EXTRACT__ROUTER__PRICES", '{"local-test": {"usd_per_million_input": 1000000}}')
    loaded = _router_env(monkeypatch, chat_server.base_url, DOC_BUDGET_USD="0.01")
    docs = _process(loaded, tmp_path)
    assert_exactly_once(loaded, docs)
    extracted, _ = _extracted_and_decided(loaded, docs)
    flagged = [payload for payload in extracted if payload.needs_review]
    assert flagged and all("per-document model budget" in (p.review_reason or "") for p in flagged)
    assert not chat_server.requests
