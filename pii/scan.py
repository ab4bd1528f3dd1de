"""Leak scan: does any file or database hold a value from the vault, or pattern-type PII at all?

This is the proof behind "no raw PII in any artifact": tests and operators run
it over the data directory, the outbox, logs, ledger and reports. It reads
text files (JSON, logs, CSV, HTML, ...), PDF text, and every text-like cell
of DuckDB and SQLite databases. A hit names the file, where in it, and the
entity type, never the value, so the report itself cannot leak. A file that
cannot be read is a hit too (type ``UNREADABLE``): what was not scanned is
not proven clean.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pii.analysis import Analyzer

__all__ = ["LeakHit", "ValueIndex", "scan_paths"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # at offset 8 of every DuckDB database file
_MAX_TEXT = 50 * 1024 * 1024
_MIN_VALUE = 4  # shorter originals ("Li", "12") would match everywhere


@dataclass(frozen=True, slots=True)
class LeakHit:
    """Where a personal value was found: never the value itself."""

    path: Path
    entity: str
    where: str  # first occurrence: "line 12", "table.column row 3", "page 2"
    source: str  # "vault" (a known original), "pattern" or "scan" (unreadable)
    count: int = 1

    def __str__(self) -> str:
        more = f" (and {self.count - 1} more)" if self.count > 1 else ""
        return f"{self.path}: {self.where}: {self.entity} [{self.source}]{more}"


def _squeeze(text: str) -> str:
    return re.sub(r"[\s\-.]", "", text)


class ValueIndex:
    """The vault's originals, searched as written and with spaces/dashes removed (IBANs, cards, phones)."""

    def __init__(self, originals: Iterable[tuple[str, str]]) -> None:
        self._exact: list[tuple[str, str]] = []
        self._squeezed: list[tuple[str, str]] = []
        for entity, value in originals:
            if len(value.strip()) >= _MIN_VALUE:
                self._exact.append((entity, value))
                squeezed = _squeeze(value)
                if squeezed != value and len(squeezed) >= 8:
                    self._squeezed.append((entity, squeezed))

    def __bool__(self) -> bool:
        return bool(self._exact)

    def find(self, text: str) -> Iterator[tuple[str, int | None]]:
        """(entity type, offset or None when found only with separators removed) of originals in ``text``."""
        exact = set()
        for entity, value in self._exact:
            offset = text.find(value)
            while offset >= 0:
                exact.add(_squeeze(value))
                yield entity, offset
                offset = text.find(value, offset + 1)
        if self._squeezed:
            flat = _squeeze(text)
            yield from ((entity, None) for entity, value in self._squeezed if value not in exact and value in flat)


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    """(location, text) pieces of one file, by its content type."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(_SQLITE_MAGIC):
        yield from _sqlite_texts(path)
    elif head[8:12] == _DUCKDB_MAGIC:
        yield from _duckdb_texts(path)
    elif head.startswith(b"%PDF"):
        yield from _pdf_texts(path)
    else:
        yield "", path.read_bytes()[:_MAX_TEXT].decode("utf-8", errors="replace")


def _pdf_texts(path: Path) -> Iterator[tuple[str, str]]:
    import pypdf

    reader = pypdf.PdfReader(path)
    for number, page in enumerate(reader.pages, start=1):
        yield f"page {number}", page.extract_text() or ""


def _sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            for number, row in enumerate(connection.execute(f'SELECT * FROM "{table}"'), start=1):
                for column, cell in zip(columns, row, strict=True):
                    if isinstance(cell, str | bytes):
                        text = cell.decode("utf-8", errors="replace") if isinstance(cell, bytes) else cell
                        yield f"{table}.{column} row {number}", text
    finally:
        connection.close()


def _duckdb_texts(path: Path) -> Iterator[tuple[str, str]]:
    import duckdb

    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            columns = [row[0] for row in connection.execute(f'DESCRIBE "{schema}"."{table}"').fetchall()]
            casts = ", ".join(f'CAST("{column}" AS VARCHAR)' for column in columns)
            cursor = connection.execute(f'SELECT {casts} FROM "{schema}"."{table}"')
            number = 0
            while rows := cursor.fetchmany(10_000):
                for row in rows:
                    number += 1
                    for column, cell in zip(columns, row, strict=True):
                        if cell:
                            yield f"{table}.{column} row {number}", cell
    finally:
        connection.close()


def _files(paths: Iterable[Path], skip: set[Path]) -> Iterator[Path]:
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        yield from (candidate for candidate in candidates if candidate.resolve() not in skip)


def scan_paths(
    paths: Iterable[Path],
    *,
    values: ValueIndex | None = None,
    analyzer: Analyzer | None = None,
    entities: list[str] | None = None,
    skip: Iterable[Path] = (),
) -> list[LeakHit]:
    """Scan files and folders; ``values`` are the vault's originals, ``analyzer`` + ``entities`` the patterns.

    ``skip`` lists files not to scan (the vault itself and key files hold only
    ciphertext and keys, which are supposed to be there).
    """
    skipped = {Path(p).resolve() for p in skip}
    hits: list[LeakHit] = []
    for path in _files([Path(p) for p in paths], skipped):
        try:
            hits.extend(_scan_file(path, values, analyzer, entities or []))
        except Exception as exc:  # a corrupt DB or PDF must not end the scan; it is reported, fail-closed
            hits.append(LeakHit(path, "UNREADABLE", type(exc).__name__, "scan"))
    return hits


def _where(location: str, text: str, offset: int | None) -> str:
    """A piece's own location, or the line number of ``offset`` in a whole text file."""
    if location:
        return location
    return f"line {text.count(chr(10), 0, offset) + 1}" if offset is not None else "file"


def _scan_file(
    path: Path, values: ValueIndex | None, analyzer: Analyzer | None, entities: list[str]
) -> Iterator[LeakHit]:
    """One hit per (entity type, source) in the file, at its first occurrence, with a count."""
    first: dict[tuple[str, str], str] = {}
    counts: dict[tuple[str, str], int] = {}
    for location, text in _texts(path):
        if not text.strip():
            continue
        found = [(entity, "vault", offset) for entity, offset in values.find(text)] if values else []
        if analyzer is not None and entities:
            found += [(span.entity, "pattern", span.start) for span in analyzer.analyze(text, entities)]
        for entity, source, offset in found:
            first.setdefault((entity, source), _where(location, text, offset))
            counts[(entity, source)] = counts.get((entity, source), 0) + 1
    for (entity, source), where in first.items():
        yield LeakHit(path, entity, where, source, counts[(entity, source)])
