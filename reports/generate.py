"""Produce a period's report (and optionally its evidence bundle) from the ledger and the store, read-only.

Order matters for the bundle: the ledger export comes first and fixes the
checkpoint; the report is then computed from exactly the exported entry
bytes, so every figure in it is recomputable from the bundle. Nothing here
holds a database connection longer than one read.

A 100,000-document bundle is 720,000 entries and 100,000 proof files, so
each entry is decoded once (raw JSON into the fold, no Entry objects), each
file is hashed from the bytes in hand when it is written (one manifest, no
read-back), and the cyclic garbage collector is paused while the report is
built (see ``_collector_paused``). The root and every shard take the same
path (``reports.ledgers``): in a cluster every document is in a shard.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from approvals.export import write_signed_decisions
from docval.db import connect
from docval.settings import Settings
from docval.shards import root_settings, shard_names
from ledger import Ledger
from ledger.bundle_verify import (
    Checkpoint,
    count_completeness,
    count_cosigners,
    ordered_rows,
    split_note,
    statement_body,
)
from ledger.export import export_about, write_manifest
from ledger.keys import load_signing_key, sign_note, signing_key_path
from ledger.shards import open_shard
from ledger.witnessing import cosignature_lines, cosigned_note, witnesses_of
from reports.bundle import BUNDLE_NAMES, write_consistency, write_readme, zip_bundle
from reports.charts import render_charts
from reports.content import ReportContent, build_content, lineage_row
from reports.cutoff import Cutoff, beyond, seal
from reports.errors import ReportError
from reports.html import render_html
from reports.identify import Identity, identify
from reports.kpis import in_period
from reports.ledgers import ROOT, LedgerPart, Row, fold_parts, read_part, write_part_proofs
from reports.lineage import DocLineage
from reports.pdf import render_pdf
from reports.shards import read_shards, spans

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


def _write_tables(
    out: Path, content: ReportContent, scope: list[DocLineage], where: dict[str, str], identities: dict[str, Identity]
) -> None:
    """lineage.csv lists every document in scope (the report shows the first N); exceptions.csv every exception."""
    with (out / "lineage.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["doc", "kind", "steps", "tiers", "models", "findings", "decision", "approvers", "seqs",
             "source", "reference", "supplier", "amount", "rule", "policy", "rejected_by", "corrections"]
        )  # fmt: skip
        for lineage in scope:
            row = lineage_row(lineage, where.get(lineage.doc), identities[lineage.doc])
            steps = " ".join(f"{step}@{at}" for step, at in row.steps)
            who = row.identity
            writer.writerow(
                [row.doc, row.kind, steps, row.tiers, row.models, row.findings, row.decision, row.approvers, row.seqs,
                 who.source, who.reference, who.supplier, who.amount, row.rule, row.policy, row.rejecters,
                 row.corrections]
            )  # fmt: skip
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


def _signed_statement(
    settings: Settings, root: LedgerPart, rows: list[Row], period: Period, shards: dict[str, str]
) -> tuple[dict[str, int], str]:
    period_from, period_to = period.rfc3339(period.start), period.rfc3339(period.end)
    counts = count_completeness(rows, period_from, period_to)
    body = statement_body(
        counts, origin=root.checkpoint.origin, period_from=period_from, period_to=period_to,
        size=root.checkpoint.size, root_b64=_root_b64(root.checkpoint), shards=shards,
    )  # fmt: skip
    return counts, sign_note(body, load_signing_key(signing_key_path(settings.ledger_keys_dir)))


def _witness_status(ledger: Ledger, note: str) -> str:
    """One line for the report: which configured witnesses cosigned the report's checkpoint."""
    witnesses = witnesses_of(ledger)
    if not witnesses:
        return "no witnesses configured"
    cosigned = set(count_cosigners(cosigned_note(note, cosignature_lines(ledger)), [w.key for w in witnesses]))
    required = ledger.config.witness_quorum or len(witnesses)
    missing = [w.key.name for w in witnesses if w.key.name not in cosigned]
    state = "cosigned" if len(cosigned) >= required else "NOT YET COSIGNED"
    return f"{state} by {len(cosigned)} of {len(witnesses)} witnesses ({required} required)" + (
        f"; not by {', '.join(missing)}" if missing else ""
    )


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
    unsealed = seal(settings, ledger)
    with _collector_paused():
        return _generate(settings, ledger, period, out, bundle_dir if bundle else None, previous_checkpoint, unsealed)


def _generate(
    settings: Settings,
    ledger: Ledger,
    period: Period,
    out: Path,
    bundle_dir: Path | None,
    previous_checkpoint: Path | None,
    unsealed: str | None,
) -> ReportFiles:
    root = read_part(ledger, ROOT, bundle_dir)
    shards = read_shards(settings, root, bundle_dir)
    cutoff = _cutoff(settings, ledger, root, shards.parts, period, unsealed)
    parts = [root, *shards.parts]
    facts = fold_parts(parts)  # KPIs, statement and lineage over the root and every shard
    rows = ordered_rows(part.rows for part in parts) if shards.parts else root.rows
    where = spans(parts) if shards.parts else {}
    counts, statement = _signed_statement(settings, root, rows, period, shards.statement_lines())
    scope_docs = [d for d in facts.docs.values() if in_period(d.claimed_at, period.start, period.end)]
    identities = {lineage.doc: identify(settings.outbox, lineage.doc) for lineage in scope_docs}
    content, scope = build_content(
        facts, start=period.start, end=period.end, origin=root.checkpoint.origin, checkpoint_note=root.note,
        checkpoint_size=root.checkpoint.size, checkpoint_root=_root_b64(root.checkpoint), completeness=counts,
        statement_note=statement, lineage_limit=settings.reports.lineage_rows,
        mismatches=_store_mismatches(settings, scope_docs) + shards.problems, where=where, cutoff=cutoff,
        identities=identities, witness_status=_witness_status(ledger, root.note),
    )  # fmt: skip
    charts = render_charts(content.kpis)
    html, pdf = out / "report.html", out / "report.pdf"
    html.write_text(render_html(content, charts), encoding="utf-8")
    render_pdf(content, charts, pdf)
    _write_tables(out, content, scope, where, identities)
    zip_path = None
    if bundle_dir is not None:
        in_scope = {lineage.doc for lineage in scope}
        known = write_part_proofs(root, bundle_dir, in_scope) | shards.write_proofs(bundle_dir, in_scope)
        _write_statement(ledger, bundle_dir, root, statement, previous_checkpoint)
        for name in ("report.html", "report.pdf", "lineage.csv", "exceptions.csv"):
            shutil.copyfile(out / name, bundle_dir / name)
        write_readme(bundle_dir)
        write_signed_decisions(bundle_dir, {None if part.name == ROOT else part.name: part.bodies for part in parts})
        write_manifest(bundle_dir, {**export_about(root.checkpoint), "documents": len(scope)}, known)
        zip_path = out / "bundle.zip"
        zip_bundle(bundle_dir, zip_path)
    return ReportFiles(
        html=html, pdf=pdf, bundle=bundle_dir, zip=zip_path,
        checkpoint_size=root.checkpoint.size, complete=content.complete, html_sha256=_sha256(html),
        pdf_sha256=_sha256(pdf), zip_sha256=_sha256(zip_path) if zip_path else None,
    )  # fmt: skip


def _cutoff(
    settings: Settings, ledger: Ledger, root: LedgerPart, shards: list[LedgerPart], period: Period, unsealed: str | None
) -> Cutoff:
    """Per ledger, the period's documents claimed beyond what the report reads (a shard not anchored: all)."""
    read = {ROOT: (ledger, root.checkpoint.size)} | {
        part.name: (open_shard(settings, part.name), part.checkpoint.size) for part in shards
    }
    for name in shard_names(settings):
        read.setdefault(name, (open_shard(settings, name), 0))
    uncovered = {name: beyond(source, size, period.start, period.end) for name, (source, size) in read.items()}
    return Cutoff(sealed=unsealed is None, reason=unsealed, uncovered={k: v for k, v in uncovered.items() if v})


def _write_statement(
    ledger: Ledger, bundle_dir: Path, root: LedgerPart, statement: str, previous_checkpoint: Path | None
) -> None:
    """The signed statement and (if asked) the consistency proof from an earlier root checkpoint."""
    (bundle_dir / BUNDLE_NAMES["statement"]).write_text(statement, encoding="utf-8")
    if previous_checkpoint is not None:
        previous = previous_checkpoint.read_text(encoding="utf-8")
        old = Checkpoint.parse(split_note(previous)[0])
        if old.size > root.checkpoint.size:
            raise ReportError(
                f"{previous_checkpoint}: covers {old.size} entries, the ledger only {root.checkpoint.size}"
            )
        write_consistency(
            bundle_dir, previous, ledger.consistency_proof(old.size, root.checkpoint.size), root.checkpoint
        )
