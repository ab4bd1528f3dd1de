"""Produce a period's report (and optionally its evidence bundle) from the ledger and the store, read-only.

Order matters for the bundle: the ledger export comes first and fixes the
checkpoint; the report is then computed from exactly the exported entry
bytes, so every figure in it is recomputable from the bundle. Nothing here
holds a database connection longer than one read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from docval.db import connect
from docval.settings import Settings
from docval.shards import root_settings
from ledger import Entry, Ledger
from ledger.bundle_verify import Checkpoint, count_completeness, split_note, statement_body
from ledger.export import export_bundle, write_manifest
from ledger.keys import load_signing_key, sign_note, signing_key_path
from reports.bundle import BUNDLE_NAMES, write_consistency, write_doc_proofs, write_readme, zip_bundle
from reports.charts import render_charts
from reports.content import ReportContent, build_content, lineage_row
from reports.errors import ReportError
from reports.html import render_html
from reports.kpis import in_period
from reports.lineage import DocLineage, LedgerFacts, fold_entries
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


def _entries_from_file(path: Path) -> Iterator[Entry]:
    with path.open("rb") as handle:
        for line in handle:
            yield Entry.from_canonical(line[:-1])


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


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_tables(out: Path, content: ReportContent, scope: list[DocLineage], where: dict[str, str]) -> None:
    """lineage.csv lists every document in scope (the report shows the first N); exceptions.csv every exception."""
    rows = []
    for lineage in scope:
        row = lineage_row(lineage, where.get(lineage.doc))
        rows.append(
            [
                row.doc,
                row.kind,
                " ".join(f"{step}@{at}" for step, at in row.steps),
                row.tiers,
                row.models,
                row.findings,
                row.decision,
                row.approvers,
                row.seqs,
            ]
        )
    header = ["doc", "kind", "steps", "tiers", "models", "findings", "decision", "approvers", "seqs"]
    (out / "lineage.csv").write_text(_csv(header, rows), encoding="utf-8")
    exceptions = [[e.ts, e.seq, e.kind, e.doc, e.actor, e.detail] for e in content.exceptions]
    (out / "exceptions.csv").write_text(
        _csv(["ts", "seq", "kind", "doc", "actor", "detail"], exceptions), encoding="utf-8"
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(slots=True)
class _LedgerView:
    """The entries up to the checkpoint, read once: folded facts plus what proofs and counts need."""

    note: str
    checkpoint: Checkpoint
    facts: LedgerFacts
    bodies: list[bytes]
    leaves: list[bytes]
    rows: list[tuple[str, str, str | None]]


def _read_ledger(ledger: Ledger, bundle_dir: Path | None) -> _LedgerView:
    """With a bundle, export first and read the exported bytes, so the report is about exactly those entries."""
    if bundle_dir is not None:
        checkpoint = export_bundle(ledger, bundle_dir)
        note = (bundle_dir / "checkpoint").read_text(encoding="utf-8")
        entries: Iterator[Entry] = _entries_from_file(bundle_dir / "entries.jsonl")
    else:
        latest = ledger.latest_checkpoint()
        if latest is None:
            raise ReportError("the ledger has no signed checkpoint yet: nothing can be reported as verified")
        note, checkpoint = latest, Checkpoint.parse(split_note(latest)[0])
        entries = ledger.entries(0, checkpoint.size)
    bodies: list[bytes] = []
    leaves: list[bytes] = []
    rows: list[tuple[str, str, str | None]] = []

    def collect() -> Iterator[Entry]:
        for entry in entries:
            bodies.append(entry.canonical)
            leaves.append(entry.leaf_hash)
            rows.append((entry.ts, entry.kind, entry.doc))
            yield entry

    facts = fold_entries(collect())
    return _LedgerView(note, checkpoint, facts, bodies, leaves, rows)


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
    view = _read_ledger(ledger, bundle_dir if bundle else None)
    root_rows = view.rows
    shards = read_shards(settings, view.bodies, view.rows, bundle_dir if bundle else None)
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
    if bundle:
        in_scope = {lineage.doc for lineage in scope}
        _write_proofs(ledger, bundle_dir, view, seqs_by_doc(root_rows, in_scope), statement, previous_checkpoint)
        shards.write_proofs(bundle_dir, in_scope)
        for name in ("report.html", "report.pdf", "lineage.csv", "exceptions.csv"):
            shutil.copyfile(out / name, bundle_dir / name)
        write_readme(bundle_dir)
        write_manifest(bundle_dir, {"documents": len(scope)})
        zip_path = out / "bundle.zip"
        zip_bundle(bundle_dir, zip_path)
    return ReportFiles(
        html=html, pdf=pdf, bundle=bundle_dir if bundle else None, zip=zip_path,
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
) -> None:
    """Per-document proofs, the signed statement and (if asked) the consistency proof from an earlier checkpoint."""
    tree = MemoryTree(view.leaves)
    checkpoint = view.checkpoint
    if tree.root != checkpoint.root:
        raise ReportError("exported entries do not hash to the signed checkpoint root; run `docval ledger verify`")
    write_doc_proofs(bundle_dir, tree, view.bodies, seqs_by_doc, view.note)
    (bundle_dir / BUNDLE_NAMES["statement"]).write_text(statement, encoding="utf-8")
    if previous_checkpoint is not None:
        previous = previous_checkpoint.read_text(encoding="utf-8")
        old = Checkpoint.parse(split_note(previous)[0])
        if old.size > checkpoint.size:
            raise ReportError(f"{previous_checkpoint}: covers {old.size} entries, the ledger only {checkpoint.size}")
        write_consistency(bundle_dir, previous, ledger.consistency_proof(old.size, checkpoint.size), checkpoint)
