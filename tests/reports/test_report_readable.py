"""A report people read: it never overclaims completeness, names documents as people know them, and lays out cleanly."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from markupsafe import escape
from reporthelpers import Built, run_period

from approvals.entries import DecisionPayload
from approvals.statement import DecisionStatement
from docval.events import EntryKind
from docval.settings import Settings
from docval.shards import shard_settings
from ledger import Ledger, anchor_shards, init_keys
from ledger.bundle_verify import COUNT_KEYS
from ledger.keys import signing_key_path
from reports import generate_report
from reports.charts import render_charts
from reports.content import ReportContent, build_content
from reports.cutoff import Cutoff
from reports.lineage import DocLineage, fold_entries


def _claim_more(ledger: Ledger, count: int) -> list[str]:
    """Documents dropped after the last checkpoint: claimed in the ledger, not yet signed."""
    docs = [f"{n:064x}" for n in range(10**6, 10**6 + count)]
    for doc in docs:
        ledger.append(EntryKind.CLAIMED, doc=doc, actor="watcher", data={"source_hash": "h", "size": 1})
    return docs


def test_report_signs_what_was_claimed_after_the_last_checkpoint(
    settings: Settings, filled: Ledger, tmp_path: Path
) -> None:
    """The attack of the issue: three files dropped 30 s before the report; main reported COMPLETE without them."""
    before = filled.size()
    _claim_more(filled, 3)
    files = generate_report(settings, run_period(), tmp_path / "out")
    assert files.checkpoint_size == filled.size() == before + 3  # a fresh checkpoint covers every entry
    assert files.complete  # the three have no final state yet: counted as in processing, never left out
    claimed = sum(1 for entry in filled.entries() if entry.kind == EntryKind.CLAIMED)
    html = files.html.read_text()
    assert f"Every document claimed in the period ({claimed}) is accounted for" in html
    processing = int(re.search(r"(\d+) still in processing", html).group(1))
    assert processing >= 3


def test_a_report_that_cannot_sign_counts_what_lies_beyond_its_cutoff(
    settings: Settings, filled: Ledger, tmp_path: Path
) -> None:
    """A shard whose key the report cannot use: the root is sealed, the shard's new claims are counted, not hidden."""
    shard_config = shard_settings(settings, "w1")
    shard_config.ensure_dirs()
    init_keys(shard_config.ledger_keys_dir, shard_config.ledger.key_name)
    shard = Ledger.open(shard_config)
    _claim_more(shard, 2)
    shard.checkpoint()
    assert not anchor_shards(settings).refused
    _claim_more(shard, 3)  # claimed after the shard's last checkpoint
    signing_key_path(shard_config.ledger_keys_dir).chmod(0o644)  # a key the ledger refuses to sign with
    files = generate_report(settings, run_period(), tmp_path / "out")
    assert not files.complete and files.checkpoint_size == filled.size()  # the root itself was sealed
    html = files.html.read_text()
    assert "INCOMPLETE" in html and "3 document(s) claimed in the period are in ledger w1 after the report" in html
    assert "could not sign a fresh checkpoint (shard w1:" in html
    text = subprocess.run(["pdftotext", str(files.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "INCOMPLETE" in text and "3 document(s) claimed" in text


def test_documents_are_named_as_their_published_result_names_them(
    settings: Settings, filled: Ledger, tmp_path: Path
) -> None:
    doc = next(entry.doc for entry in filled.entries() if entry.kind == EntryKind.PUBLISHED)
    record = {
        "doc": doc, "source": "invoice-<PERSON_1>.pdf", "kind": "invoice", "state": "published",
        "fields": {"invoice_number": {"value": "INV-4711", "confidence": 0.99, "tier": "rules"},
                   "seller_name": {"value": "ACME Trading GmbH", "confidence": 0.9, "tier": "rules"},
                   "grand_total": {"value": "1190.00", "confidence": 0.99, "tier": "rules"},
                   "currency": {"value": "EUR", "confidence": 0.99, "tier": "rules"}},
        "decision": {"outcome": "auto_approve", "approvers": []}, "ledger": {"first_seq": 0, "last_seq": 1},
    }  # fmt: skip
    (settings.outbox / f"{doc}.json").write_text(json.dumps(record), encoding="utf-8")
    files = generate_report(settings, run_period(), tmp_path / "out")
    html = files.html.read_text()
    assert "invoice-&lt;PERSON_1&gt;.pdf" in html and "INV-4711 · ACME Trading GmbH · 1190.00 EUR" in html
    rows = {row["doc"]: row for row in csv.DictReader((tmp_path / "out" / "lineage.csv").open(encoding="utf-8"))}
    assert (rows[doc]["reference"], rows[doc]["supplier"], rows[doc]["amount"]) == (
        "INV-4711",
        "ACME Trading GmbH",
        "1190.00 EUR",
    )
    assert rows[doc]["rule"] not in ("", "-")  # the policy rule that decided, from the ledger


def test_rejections_are_not_listed_as_approvals(settings: Settings, filled: Ledger, tmp_path: Path) -> None:
    [waiting] = _claim_more(filled, 1)
    filled.append(EntryKind.DECIDED, doc=waiting, actor="policy", data={"outcome": "needs_approval", "rule": "amount"})
    statement = DecisionStatement(
        doc=waiting, round="ab" * 16, fields_sha256="cd" * 32, decision="reject", reason="no purchase order",
        signer="rita", signed_at="2026-12-04T10:00:00Z",
    )  # fmt: skip
    signed = DecisionPayload(
        statement=statement, signature={"kind": "sshsig", "signature": "x"}, role="reviewer", roster_version=1,
        policy="ef" * 32,
    ).model_dump(mode="json")  # fmt: skip
    filled.append(EntryKind.APPROVAL_GRANTED, doc=waiting, actor="rita", data=signed)
    filled.append(EntryKind.REJECTED, doc=waiting, actor="gate", data={"state": "rejected", "result_sha256": "0" * 64})
    generate_report(settings, run_period(), tmp_path / "out")
    rows = {row["doc"]: row for row in csv.DictReader((tmp_path / "out" / "lineage.csv").open(encoding="utf-8"))}
    assert rows[waiting]["rejected_by"] == 'rita (reviewer) 2026-12-04 10:00:00 "no purchase order"'
    assert "rita" not in rows[waiting]["approvers"]


def test_first_screen_is_the_verdict_and_the_defined_figures_and_signed_notes_are_in_the_appendix(built: Built) -> None:
    html = built.files.html.read_text()
    order = [
        html.index(marker) for marker in ('id="verdict"', 'id="kpi-table"', 'id="lineage-table"', 'id="statement"')
    ]
    assert order == sorted(order)
    content, _ = _content(built)
    for figure in content.headline:
        assert str(escape(figure.definition)) in html  # every headline figure is defined where it is shown
    kpis = content.kpis
    assert kpis.auto_approved_share == pytest.approx(kpis.auto_approved / kpis.decided)
    assert "completed without human" not in html


def _content(built: Built) -> tuple[ReportContent, list[DocLineage]]:
    facts = fold_entries(built.ledger.entries())
    period = run_period()
    return build_content(
        facts, start=period.start, end=period.end, origin="o", checkpoint_note="", checkpoint_size=0,
        checkpoint_root="", completeness=dict.fromkeys(COUNT_KEYS, 0), statement_note="", lineage_limit=10,
        mismatches=[], cutoff=Cutoff(sealed=True), identities={},
    )  # fmt: skip


def test_charts_with_nothing_to_show_are_left_out(built: Built) -> None:
    kpis = _content(built)[0].kpis
    assert [chart.key for chart in render_charts(kpis)] == ["volume", "outcomes", "findings", "cost"]
    empty = kpis.model_copy(update={"tier_costs": [], "findings": {}})
    charts = render_charts(empty)
    assert [chart.key for chart in charts] == ["volume", "outcomes"]
    assert all(chart.caption for chart in charts)


def _words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, word) for every word poppler finds."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = []
    for page, body in enumerate(html.split("<page ")[1:]):
        for match in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body
        ):
            x0, y0, x1, y1 = map(float, match.groups()[:4])
            words.append((page, x0, y0, x1, y1, match.group(5)))
    return words


def test_no_text_in_the_pdf_runs_into_other_text(built: Built) -> None:
    """Overflowing cells ("pending (needs_approval)" ran into the next column) show up as overlapping words."""
    words = _words(built.files.pdf)
    assert len(words) > 1000
    overlaps = []
    for i, (page, x0, y0, x1, y1, text) in enumerate(words):
        for other in words[i + 1 : i + 40]:
            if other[0] != page:
                break
            ox0, oy0, ox1, oy1 = other[1:5]
            if min(x1, ox1) - max(x0, ox0) > 1.0 and min(y1, oy1) - max(y0, oy0) > 1.0:
                overlaps.append((page, text, other[5]))
    assert overlaps == []


def test_the_largest_amounts_come_first_among_the_documents_an_auditor_reads(built: Built) -> None:
    """ "Who approved the largest invoice of the month, under which rule": it is among the report's first rows."""
    facts = fold_entries(built.ledger.entries())
    odd = [d for d in facts.docs.values() if d.human_touched or d.findings]
    largest = max(Decimal(d.amount or 0) for d in odd)
    content, _ = _content(built)
    assert largest > 0 and Decimal(facts.docs[content.lineage[0].doc].amount or 0) == largest
    shown = [Decimal(facts.docs[row.doc].amount or 0) for row in content.lineage if facts.docs[row.doc] in odd]
    assert shown == sorted(shown, reverse=True)


def test_corrections_and_demo_identities_are_shown(settings: Settings, filled: Ledger, tmp_path: Path) -> None:
    """The share later corrected is a headline figure, each correction is on its document's row, and demo
    identities (keys docval generated) are flagged where the report lists who was enrolled."""
    doc = next(entry.doc for entry in filled.entries() if entry.kind == EntryKind.PUBLISHED)
    corrected = {"statement": {"field": "grand_total", "signer": "ap-clerk-2"}, "signature": {"kind": "webauthn"}}
    filled.append(EntryKind.CORRECTED, doc=doc, actor="ap-clerk-2", data=corrected)
    demo = {"statement": {"action": "add", "person": "bob", "roles": ["reviewer"], "demo": True}, "signatures": []}
    filled.append(EntryKind.PERSON_CHANGED, doc=None, actor="admin-1", data=demo)
    files = generate_report(settings, run_period(), tmp_path / "out")
    html = files.html.read_text()
    assert re.search(r"<th>corrected by reviewers</th><td class=\"value\">[0-9.]+% \(1 of \d+\)</td>", html)
    assert "corrected: grand_total by ap-clerk-2" in html
    assert re.search(r"<td>bob</td><td>reviewer</td><td>[^<]+</td><td><b class=\"fail\">DEMO</b></td>", html)
    assert re.search(r"<td>ap-clerk-1</td><td>reviewer</td><td>[^<]+</td><td>-</td>", html)  # a real person
    rows = {row["doc"]: row for row in csv.DictReader((tmp_path / "out" / "lineage.csv").open(encoding="utf-8"))}
    assert rows[doc]["corrections"] == "grand_total by ap-clerk-2"
    text = subprocess.run(["pdftotext", str(files.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "DEMO" in text and "corrected by reviewers" in text
