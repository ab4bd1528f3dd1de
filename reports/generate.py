"""Produce a period's report (and optionally its evidence bundle) from the ledger and the store, read-only.

Order matters for the bundle: the ledger export comes first and fixes the
checkpoint; the report is then computed from exactly the exported entry
bytes, so every figure in it is recomputable from the bundle. Nothing here
holds a database connection longer than one read.

A 100,000-document bundle is 720,000 entries and 100,000 proof files, so
each entry is decoded once (raw JSON into the fold, no Entry objects), each
file is hashed from the bytes in hand when it is written (one manifest, no
read-back), and the cyclic garbage collector is paused while the report is
built (see ``_collector_paused``).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson

from docval.db import connect
from docval.settings import Settings
from docval.shards import root_settings
from ledger import Entry, Ledger
from ledger.bundle_verify import Checkpoint, count_completeness, leaf_hash, split_note, statement_body
from ledger.export import export_about, export_bundle, write_manifest
from ledger.keys import load_signing_key, sign_note, signing_key_path
from reports.bundle import BUNDLE_NAMES, write_consistency, write_doc_proofs, write_readme, zip_bundle
from reports.charts import render_charts
from reports.content import ReportContent, build_content, lineage_row
from reports.errors import ReportError
from reports.html import render_html
from reports.kpis import in_period
from reports.lineage import DocLineage, LedgerFacts, LineageFolder
from reports.pdf import render_pdf
from reports.proofs import MemoryTree
from reports.shards import read_shards, seqs_by_doc

__all__ = ["Period", "ReportFiles", "generate_report"]


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC; built from inclusive calendar dates, as people name a reporting period."""

    start: datetime
    end: datetime

    @classmethod
    def from_dates(cls, first: date, last: date) -> Period:
        if last < first:
            raise ReportError(f"period ends ({last}) before it starts ({first})")
        return cls(datetime.combine(first, time(), UTC), datetime.combine(last + timedelta(days=1), time(), UTC))

    @property
    def label(self) -> str:
        return f"{self.start.date()}_{(self.end - timedelta(days=1)).date()}"

    def rfc3339(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class ReportFiles:
    html: Path
    pdf: Path
    bundle: Path | None
    zip: Path | None
    checkpoint_size: int
    complete: bool
    html_sha256: str
    pdf_sha256: str
    zip_sha256: str | None


def _store_mismatches(settings: Settings, scope: list[DocLineage]) -> list[str]:
    """Documents whose state in the store differs from the ledger: shown as failures, never reconciled away."""
    if not settings.store_db.exists():
        return []
    with connect(settings.store_db, write=False) as db:
        if not db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'documents'").fetchone()[0]:
            return []
        stored = dict(db.execute("SELECT doc, state FROM documents").fetchall())
    problems = []
    for lineage in scope:
        ledger_state = lineage.state.value if lineage.state else "awaiting_approval" if lineage.pending else None
        store_state = stored.get(lineage.doc)
        if lineage.doc not in stored:
            problems.append(f"document {lineage.doc[:16]} is in the ledger but not in the store")
        elif store_state is not None and ledger_state is not None and store_state != ledger_state:
            problems.append(f"document {lineage.doc[:16]}: store says {store_state}, ledger says {ledger_state}")
    return problems


def _write_tables(out: Path, content: ReportContent, scope: list[DocLineage], where: dict[str, str]) -> None:
    """lineage.csv lists every document in scope (the report shows the first N); exceptions.csv every exception."""
    with (out / "lineage.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["doc", "kind", "steps", "tiers", "models", "findings", "decision", "approvers", "seqs"])
        for lineage in scope:
            row = lineage_row(lineage, where.get(lineage.doc))
            steps = " ".join(f"{step}@{at}" for step, at in row.steps)
            writer.writerow(
                [row.doc, row.kind, steps, row.tiers, row.models, row.findings, row.decision, row.approvers, row.seqs]
            )
    with (out / "exceptions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["ts", "seq", "kind", "doc", "actor", "detail"])
        writer.writerows([e.ts, e.seq, e.kind, e.doc, e.actor, e.detail] for e in content.exceptions)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report is built, then restore it.

    The fold keeps millions of small acyclic objects (steps, lineages, strings) alive until the report
    is written, and every automatic collection walks all of them again: half the CPU time of a
    30,000-document report, and a growing share with the ledger. Reference counting still frees
    everything as usual; only cycle detection waits until the report is done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_Fields = tuple[int, str, str, str | None, str, Any]  # seq, ts, kind, doc, actor, data


@dataclass(slots=True)
class _LedgerView:
    """The entries up to the checkpoint, read once: folded facts plus what proofs, counts and manifest need."""

    note: str
    checkpoint: Checkpoint
    facts: LedgerFacts
    rows: list[tuple[str, str, str | None]]
    bodies: list[bytes]  # exact entry bytes (what proofs are built from)
    entries_sha256: str | None  # of entries.jsonl as exported and read, with a bundle


def _read_ledger(ledger: Ledger, bundle_dir: Path | None) -> _LedgerView:
    """With a bundle, export first and read the exported bytes, so the report is about exactly those entries."""
    if bundle_dir is None:
        latest = ledger.latest_checkpoint()
        if latest is None:
            raise ReportError("the ledger has no signed checkpoint yet: nothing can be reported as verified")
        checkpoint = Checkpoint.parse(split_note(latest)[0])
        bodies: list[bytes] = []
        facts, rows = _fold(_fields(ledger.entries(0, checkpoint.size), bodies))
        return _LedgerView(latest, checkpoint, facts, rows, bodies, None)
    checkpoint = export_bundle(ledger, bundle_dir, manifest=False)
    note = (bundle_dir / "checkpoint").read_text(encoding="utf-8")
    exported = (bundle_dir / "entries.jsonl").read_bytes()
    entries_sha256 = hashlib.sha256(exported).hexdigest()
    bodies = exported.split(b"\n")
    del exported
    bodies.pop()  # every line ends in \n: nothing follows the last one
    facts, rows = _fold(map(_decode, bodies))
    return _LedgerView(note, checkpoint, facts, rows, bodies, entries_sha256)


def _fields(entries: Iterable[Entry], bodies: list[bytes]) -> Iterator[_Fields]:
    """Entries as the ledger hands them out (already decoded), keeping their bytes in ``bodies``."""
    for entry in entries:
        bodies.append(entry.canonical)
        yield entry.seq, entry.ts, entry.kind, entry.doc, entry.actor, entry.data


def _decode(body: bytes) -> _Fields:
    entry = orjson.loads(body)
    return entry["seq"], entry["ts"], entry["kind"], entry["doc"], entry["actor"], entry["data"]


def _fold(entries: Iterable[_Fields]) -> tuple[LedgerFacts, list[tuple[str, str, str | None]]]:
    """Each entry once: into the lineage fold and the ``(ts, kind, doc)`` rows completeness counts."""
    folder = LineageFolder(validate=False)
    rows: list[tuple[str, str, str | None]] = []
    for seq, ts, kind, doc, actor, data in entries:
        rows.append((ts, kind, doc))
        folder.add(seq, ts, kind, doc, actor, data)
    return folder.facts, rows


def _signed_statement(
    settings: Settings, view: _LedgerView, period: Period, shards: dict[str, str]
) -> tuple[dict[str, int], str]:
    period_from, period_to = period.rfc3339(period.start), period.rfc3339(period.end)
    counts = count_completeness(view.rows, period_from, period_to)
    body = statement_body(
        counts, origin=view.checkpoint.origin, period_from=period_from, period_to=period_to,
        size=view.checkpoint.size, root_b64=_root_b64(view.checkpoint), shards=shards,
    )  # fmt: skip
    return counts, sign_note(body, load_signing_key(signing_key_path(settings.ledger_keys_dir)))


def _root_b64(checkpoint: Checkpoint) -> str:
    return checkpoint.body().split("\n")[2]


def generate_report(
    settings: Settings,
    period: Period,
    out: Path,
    *,
    bundle: bool = False,
    previous_checkpoint: Path | None = None,
) -> ReportFiles:
    """Write report.html/.pdf (+ lineage.csv, exceptions.csv) to ``out``; with ``bundle`` also ``out/bundle``."""
    if previous_checkpoint is not None and not bundle:
        raise ReportError("--previous-checkpoint adds a consistency proof to the bundle: use it with --bundle")
    settings = root_settings(settings)  # run on a shard's worker too, the report is the root's (and its shards')
    ledger = Ledger.open(settings)
    out.mkdir(parents=True, exist_ok=True)
    bundle_dir = out / "bundle"
    if bundle and bundle_dir.exists():
        shutil.rmtree(bundle_dir)  # a re-run's manifest and zip must not pick up an earlier run's files
    with _collector_paused():
        return _generate(settings, ledger, period, out, bundle_dir if bundle else None, previous_checkpoint)


def _generate(
    settings: Settings,
    ledger: Ledger,
    period: Period,
    out: Path,
    bundle_dir: Path | None,
    previous_checkpoint: Path | None,
) -> ReportFiles:
    view = _read_ledger(ledger, bundle_dir)
    root_rows = view.rows
    shards = read_shards(settings, view.bodies, view.rows, bundle_dir)
    if shards.facts is not None:  # KPIs, statement and lineage over the root and every shard
        view.facts, view.rows = shards.facts, shards.rows
    counts, statement = _signed_statement(settings, view, period, shards.statement_lines())
    scope_docs = [d for d in view.facts.docs.values() if in_period(d.claimed_at, period.start, period.end)]
    content, scope = build_content(
        view.facts, start=period.start, end=period.end, origin=view.checkpoint.origin, checkpoint_note=view.note,
        checkpoint_size=view.checkpoint.size, checkpoint_root=_root_b64(view.checkpoint), completeness=counts,
        statement_note=statement, lineage_limit=settings.reports.lineage_rows,
        mismatches=_store_mismatches(settings, scope_docs) + shards.problems, where=shards.where,
    )  # fmt: skip
    charts = render_charts(content.kpis)
    html, pdf = out / "report.html", out / "report.pdf"
    html.write_text(render_html(content, charts), encoding="utf-8")
    render_pdf(content, charts, pdf)
    _write_tables(out, content, scope, shards.where)
    zip_path = None
    if bundle_dir is not None:
        in_scope = {lineage.doc for lineage in scope}
        root_seqs = seqs_by_doc(root_rows, in_scope)
        known = _write_proofs(ledger, bundle_dir, view, root_seqs, statement, previous_checkpoint)
        shards.write_proofs(bundle_dir, in_scope)
        for name in ("report.html", "report.pdf", "lineage.csv", "exceptions.csv"):
            shutil.copyfile(out / name, bundle_dir / name)
        write_readme(bundle_dir)
        write_manifest(bundle_dir, {**export_about(view.checkpoint), "documents": len(scope)}, known)
        zip_path = out / "bundle.zip"
        zip_bundle(bundle_dir, zip_path)
    return ReportFiles(
        html=html, pdf=pdf, bundle=bundle_dir, zip=zip_path,
        checkpoint_size=view.checkpoint.size, complete=content.complete, html_sha256=_sha256(html),
        pdf_sha256=_sha256(pdf), zip_sha256=_sha256(zip_path) if zip_path else None,
    )  # fmt: skip


def _write_proofs(
    ledger: Ledger,
    bundle_dir: Path,
    view: _LedgerView,
    seqs_by_doc: dict[str, list[int]],
    statement: str,
    previous_checkpoint: Path | None,
) -> dict[str, str]:
    """Per-document proofs, the signed statement and (if asked) the consistency proof from an earlier checkpoint.

    Returns the SHA-256 of entries.jsonl and of every proof file, for the manifest.
    """
    tree = MemoryTree([leaf_hash(body) for body in view.bodies])
    checkpoint = view.checkpoint
    if tree.root != checkpoint.root:
        raise ReportError("exported entries do not hash to the signed checkpoint root; run `docval ledger verify`")
    known = write_doc_proofs(bundle_dir, tree, view.bodies, seqs_by_doc, view.note)
    if view.entries_sha256 is not None:
        known["entries.jsonl"] = view.entries_sha256
    (bundle_dir / BUNDLE_NAMES["statement"]).write_text(statement, encoding="utf-8")
    if previous_checkpoint is not None:
        previous = previous_checkpoint.read_text(encoding="utf-8")
        old = Checkpoint.parse(split_note(previous)[0])
        if old.size > checkpoint.size:
            raise ReportError(f"{previous_checkpoint}: covers {old.size} entries, the ledger only {checkpoint.size}")
        write_consistency(bundle_dir, previous, ledger.consistency_proof(old.size, checkpoint.size), checkpoint)
    return known
