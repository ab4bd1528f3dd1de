"""The rules-tier and rules-vs-routed parts of benchmarks/extract_bench.py at a small size."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from extract_chat_server import Behaviour, ChatServer

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "extract_bench.py"


def test_rules_tier_and_routed_accuracy(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCH))
    rules = module["bench_rules"](module["text_pdfs"](tmp_path, 6), repeat=1)
    assert rules["docs"] == 6 and rules["rules_docs_per_s"] > 0 and rules["ratio"] > 0

    server = ChatServer()  # a stand-in endpoint that knows nothing: routed must not be worse than rules-only
    server.default = Behaviour(answer={})
    try:
        accuracy = module["bench_accuracy"](shared_data, server.base_url, "stand-in")
    finally:
        server.stop()
    assert accuracy["zugferd_routed"] == accuracy["zugferd_rules"] > 0.8
    assert accuracy["invoice2data_model_calls"] > 0 and len(server.requests) > 0
