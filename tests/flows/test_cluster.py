"""Three ``prefect worker`` processes on a PostgreSQL-backed server share one inbox: every document decided once.

Runs benchmarks/scale_bench.py's configuration for real: ``docval cluster up``
starts its own PostgreSQL in a temporary folder on a free port, a Prefect
server on it, the ``docval`` process work pool and three workers, each writing
its own ledger shard; documents dropped into the shared inbox are dispatched
as ``process-files`` runs, claimed by whichever worker runs them, processed,
and then SIGTERM stops everything (PostgreSQL included). The bench asserts one
outbox file per document, one final ledger entry per document over all shards
(none decided twice, none lost), every shard verifying, and a clean stop.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_bench.py"


def test_three_workers_on_postgres_decide_60_documents_once(load_benchmark, capsys) -> None:
    """~40-60 s: PostgreSQL initdb + server + 3 workers + 6 flow runs of 10 documents."""
    (figure,) = load_benchmark("scale_bench").main(
        ["--docs", "60", "--workers", "3", "--sqlite-workers", "0", "--approvals-workers", "0", "--chunk", "10"]
    )
    assert figure.final_entries == figure.docs == 60
    assert figure.shards >= 2, "the work pool spread the runs over several workers"
    assert figure.api_calls > 0 and figure.api_latency_ms > 0
    assert "pg-3" in capsys.readouterr().out


@pytest.mark.slow  # ~65 s on 2 cores (1,000 documents in 5 runs of 200)
def test_three_workers_on_postgres_decide_1000_documents_once(load_benchmark) -> None:
    (figure,) = load_benchmark("scale_bench").main(
        ["--docs", "1000", "--workers", "3", "--sqlite-workers", "0", "--approvals-workers", "0"]
    )
    assert figure.final_entries == figure.docs == 1000
    assert figure.shards == 3
