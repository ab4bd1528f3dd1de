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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from docval.db import connect
from docval.settings import Settings
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


def _write_tables(out: Path, content: ReportContent, scope: list[DocLineage]) -> None:
    """lineage.csv lists every document in scope (the report shows the first N); exceptions.csv every exception."""
    rows = []
    for lineage in scope:
        row = lineage_row(lineage)
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


def generate_report(
    settings: Settings,
    period: Period,
    out: Path,
    *,
    bundle: bool = False,
    previous_checkpoint: Path | None = None,
) -> ReportFiles:
    """Write report.html/.pdf (+ lineage.csv, exceptions.csv) to ``out``; with ``bundle`` also ``out/bundle``."""
    ledger = Ledger.open(settings)
    out.mkdir(parents=True, exist_ok=True)
    bundle_dir = out / "bundle"
    if bundle:
        checkpoint = export_bundle(ledger, bundle_dir)
        note = (bundle_dir / "checkpoint").read_text(encoding="utf-8")
        entries: Iterator[Entry] = _entries_from_file(bundle_dir / "entries.jsonl")
    else:
        note = ledger.latest_checkpoint()
        if note is None:
            raise ReportError("the ledger has no signed checkpoint yet: nothing can be reported as verified")
        checkpoint = Checkpoint.parse(split_note(note)[0])
        entries = ledger.entries(0, checkpoint.size)
    bodies: list[bytes] = []
    rows: list[tuple[str, str, str | None]] = []
    facts = fold_entries(_collect(entries, bodies, rows))
    period_from, period_to = period.rfc3339(period.start), period.rfc3339(period.end)
    counts = count_completeness(rows, period_from, period_to)
    root_b64 = checkpoint.body().split("\n")[2]
    body = statement_body(
        counts,
        origin=checkpoint.origin,
        period_from=period_from,
        period_to=period_to,
        size=checkpoint.size,
        root_b64=root_b64,
    )
    statement = sign_note(body, load_signing_key(signing_key_path(settings.keys_dir)))
    scope_docs = [d for d in facts.docs.values() if in_period(d.claimed_at, period.start, period.end)]
    content, scope = build_content(
        facts,
        start=period.start,
        end=period.end,
        origin=checkpoint.origin,
        checkpoint_note=note,
        checkpoint_size=checkpoint.size,
        checkpoint_root=root_b64,
        completeness=counts,
        statement_note=statement,
        lineage_limit=settings.reports.lineage_rows,
        mismatches=_store_mismatches(settings, scope_docs),
    )
    charts = render_charts(content.kpis)
    html, pdf = out / "report.html", out / "report.pdf"
    html.write_text(render_html(content, charts), encoding="utf-8")
    render_pdf(content, charts, pdf)
    _write_tables(out, content, scope)
    zip_path = None
    if bundle:
        _finish_bundle(ledger, bundle_dir, out, facts, bodies, scope, note, statement, checkpoint, previous_checkpoint)
        zip_path = out / "bundle.zip"
        zip_bundle(bundle_dir, zip_path)
    return ReportFiles(
        html,
        pdf,
        bundle_dir if bundle else None,
        zip_path,
        checkpoint.size,
        content.complete,
        _sha256(html),
        _sha256(pdf),
        _sha256(zip_path) if zip_path else None,
    )


def _collect(entries: Iterator[Entry], bodies: list[bytes], rows: list[tuple[str, str, str | None]]) -> Iterator[Entry]:
    """Keep the exact bytes (for proofs) and ``(ts, kind, doc)`` (for the completeness count) while folding."""
    for entry in entries:
        bodies.append(entry.canonical)
        rows.append((entry.ts, entry.kind, entry.doc))
        yield entry


def _finish_bundle(
    ledger: Ledger,
    bundle_dir: Path,
    out: Path,
    facts: LedgerFacts,
    bodies: list[bytes],
    scope: list[DocLineage],
    note: str,
    statement: str,
    checkpoint: Checkpoint,
    previous_checkpoint: Path | None,
) -> None:
    tree = MemoryTree(bodies)
    if tree.root != checkpoint.root:
        raise ReportError("exported entries do not hash to the signed checkpoint root; run `docval ledger verify`")
    seqs_by_doc = {lineage.doc: [step.seq for step in lineage.steps] for lineage in scope}
    write_doc_proofs(bundle_dir, tree, bodies, seqs_by_doc, note)
    (bundle_dir / BUNDLE_NAMES["statement"]).write_text(statement, encoding="utf-8")
    if previous_checkpoint is not None:
        previous = previous_checkpoint.read_text(encoding="utf-8")
        old = Checkpoint.parse(split_note(previous)[0])
        if old.size > checkpoint.size:
            raise ReportError(f"{previous_checkpoint}: covers {old.size} entries, the ledger only {checkpoint.size}")
        write_consistency(bundle_dir, previous, ledger.consistency_proof(old.size, checkpoint.size), checkpoint)
    for name in ("report.html", "report.pdf", "lineage.csv", "exceptions.csv"):
        (bundle_dir / name).write_bytes((out / name).read_bytes())
    write_readme(bundle_dir)
    write_manifest(bundle_dir, {"documents": len(scope)})
