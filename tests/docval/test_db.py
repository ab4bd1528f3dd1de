"""The file lock must let several real processes write one DuckDB file without losing a row."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from docval.db import connect
from docval.errors import StoreBusyError


def _append_rows(path: str, writer: int, count: int) -> None:
    for number in range(count):
        with connect(Path(path), write=True) as db:
            db.execute("INSERT INTO t VALUES (?, ?)", [writer, number])


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with connect(path, write=True) as db:
        db.execute("CREATE TABLE t (writer INT, n INT)")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_rows, args=(str(path), w, 40)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with connect(path, write=False) as db:
        assert db.execute("SELECT count(*), count(DISTINCT (writer, n)) FROM t").fetchone() == (120, 120)


def test_reader_of_missing_file_gets_an_empty_database(tmp_path: Path) -> None:
    with connect(tmp_path / "new.duckdb", write=False) as db:
        assert db.execute("SELECT 1").fetchone() == (1,)


def test_writer_times_out_while_another_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with connect(path, write=True), pytest.raises(StoreBusyError), connect(path, write=True, timeout=0.2):
        pass
