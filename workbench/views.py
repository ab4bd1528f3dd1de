"""What the screens show, read from the document store, the outbox and the ledger; no HTML here.

The queue pages through the store first and reads outbox records and ledger
histories only for the rows on the page, so a backlog of thousands costs one
page of reads. The approval state shown (rule, deadline, approvals so far) is
the approvals core's fold of the document's ledger entries, the same fold it
decides from; so is whether a document is decided (``Decided``), which the
outbox says only once publishing has rewritten the record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from approvals.state import ApprovalState, fold_state
from docval.db import connect
from docval.domain import DocState, DocumentResult, ExtractedField
from docval.events import EntryKind
from docval.settings import Settings
from ledger import Entry, Ledger

__all__ = [
    "Approval",
    "Decided",
    "DocView",
    "Page",
    "QueueFilter",
    "decided_outcome",
    "document_view",
    "next_waiting",
    "plain_finding",
    "queue_page",
]

WEAK_CONFIDENCE = 0.8
_SORTS = {"oldest": "claimed_at ASC", "newest": "claimed_at DESC", "kind": "kind ASC, claimed_at ASC"}
_STATES = {"waiting": [DocState.AWAITING_APPROVAL], "decided": [DocState.PUBLISHED, DocState.REJECTED]}

_FINAL_KINDS = {EntryKind.PUBLISHED.value: "published", EntryKind.REJECTED.value: "rejected"}
_SETTLED = {"publish": "decided, being published", "reject": "decided, being rejected"}

HomeLedgers = Callable[[list[str]], dict[str, Ledger]]  # Workbench.ledgers: each document's home ledger

_PLAIN = {  # every code extractors/validate.py, extractors/einvoice.py and the router raise (tests/workbench)
    "FIELD_INVALID": "A value does not read as what its field holds (a date, an amount).",
    "MISSING_FIELD": "A required field could not be read.",
    "IBAN_CHECKSUM": "The IBAN's check digits do not match: a typing error or a changed IBAN.",
    "IBAN_INVALID": "The IBAN is not well formed for its country.",
    "VAT_ID_INVALID": "The VAT id does not pass its country's check.",
    "NATIONAL_ID_INVALID": "The national id does not pass its scheme's check.",
    "UNSURE_IDENTIFIER": "An identifier fails its check as read, but the reading is doubtful: compare the page.",
    "LINE_MISMATCH": "A line's quantity times price is not its amount, or the lines do not add up to the net.",
    "TOTAL_MISMATCH": "Net amount and tax do not add up to the total.",
    "TAX_MISMATCH": "The tax does not match the net amount at the rate shown.",
    "DATE_ORDER": "The due date lies before the issue date.",
    "DATE_FUTURE": "A date lies too far in the future.",
    "DUPLICATE": "The same supplier already sent an invoice with this number.",
    "EINVOICE_MISMATCH": "The embedded e-invoice holds a value the page does not print.",
    "NEEDS_REVIEW": "Some values were left for a person to confirm.",
}


@dataclass(frozen=True)
class Approval:
    person: str
    role: str
    decision: str
    at: str

    @property
    def done(self) -> str:
        return {"approve": "approved", "reject": "rejected"}.get(self.decision, self.decision)


@dataclass(frozen=True)
class Decided:
    """How a decided document ended: what, by which rule, when, and whose signed decisions counted (none: the
    policy alone)."""

    what: str  # published, rejected, or being published/rejected (decided; the publish run follows)
    rule: str
    at: str | None
    by: list[Approval]

    def summary(self) -> str:
        """``published by rule clean-invoice at …; by the policy alone, nobody signed``: what a refusal quotes."""
        rule = f" by rule {self.rule}" if self.rule else ""
        at = f" at {self.at}" if self.at else ""
        people = ", ".join(f"{a.done} by {a.person} ({a.role}) at {a.at}" for a in self.by)
        return f"{self.what}{rule}{at}; {people or 'by the policy alone, nobody signed'}"


@dataclass(frozen=True)
class DocView:
    """One document as a reviewer sees it: masked fields, findings, approval state, ledger timeline."""

    doc: str
    source: str  # the outbox record's: the pipeline masked its personal parts, as `pending` and the report show it
    kind: str
    state: str
    maker: str
    rule: str
    amount: str | None
    deadline: str | None
    approvals_required: int
    approvals: list[Approval]
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    findings: list[tuple[str, str]] = field(default_factory=list)
    timeline: list[tuple[int, str, str, str]] = field(default_factory=list)
    pages: int = 0
    decided: Decided | None = None  # None while people may still decide
    approval: ApprovalState | None = None  # the core's fold, which the decision rules read

    @property
    def supplier(self) -> str:
        seller = self.fields.get("seller_name")
        return str(seller.value) if seller is not None and seller.value is not None else ""

    @property
    def progress(self) -> str:
        done = sum(1 for a in self.approvals if a.decision == "approve")
        if self.state != DocState.AWAITING_APPROVAL:
            return self.state.replace("_", " ")
        text = f"{done} of {self.approvals_required} approvals"
        if self.decided is not None:
            return f"{text} — {self.decided.what}"
        return text + (f" — waiting for {'a second' if done == 1 else 'another'} person" if done else "")

    def weak(self, name: str) -> bool:
        return self.fields[name].confidence < WEAK_CONFIDENCE


@dataclass(frozen=True)
class QueueFilter:
    state: str = "waiting"
    kind: str = ""
    sort: str = "oldest"
    page: int = 1


@dataclass(frozen=True)
class Page:
    rows: list[DocView]
    total: int
    number: int
    pages: int


def plain_finding(code: str, message: str, fields: Sequence[str] = ()) -> str:
    """A finding in words a reviewer reads, with the fields it concerns; the rule's own message where no plain
    wording exists (a code from a newer extractor)."""
    if code not in _PLAIN:
        return message
    return f"{_PLAIN[code].removesuffix('.')} ({', '.join(fields)})." if fields else _PLAIN[code]


def queue_page(settings: Settings, wanted: QueueFilter, ledgers: HomeLedgers) -> Page:
    where = "list_contains(?, state)" + (" AND kind = ?" if wanted.kind else "")
    params: list[object] = [[s.value for s in _STATES.get(wanted.state, _STATES["waiting"])]]
    if wanted.kind:
        params.append(wanted.kind)
    size = settings.workbench.page_size
    with connect(settings.store_db, write=False) as db:
        total = db.execute(f"SELECT count(*) FROM documents WHERE {where}", params).fetchone()[0]
        pages = max(1, -(-total // size))
        number = min(max(1, wanted.page), pages)
        order = _SORTS.get(wanted.sort, _SORTS["oldest"])
        query = f"SELECT doc FROM documents WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        docs = [row[0] for row in db.execute(query, [*params, size, (number - 1) * size]).fetchall()]
    histories = _histories(ledgers(docs))
    rows = [_view(settings, doc, histories.get(doc, [])) for doc in docs]
    return Page([row for row in rows if row is not None], total, number, pages)


def document_view(settings: Settings, doc: str, ledger: Ledger) -> DocView | None:
    return _view(settings, doc, ledger.entries_for_doc(doc), timeline=True)


def next_waiting(settings: Settings, doc: str) -> str | None:
    """The waiting document claimed after this one (the queue's default order), else the first one."""
    with connect(settings.store_db, write=False) as db:
        row = db.execute(
            "SELECT doc FROM documents WHERE state = ? AND doc <> ? ORDER BY "
            "claimed_at <= coalesce((SELECT claimed_at FROM documents WHERE doc = ?), claimed_at), claimed_at LIMIT 1",
            [DocState.AWAITING_APPROVAL.value, doc, doc],
        ).fetchone()
    return row[0] if row else None


def _histories(homes: dict[str, Ledger]) -> dict[str, list[Entry]]:
    """The entries of each document of ``homes`` (doc -> its ledger): one query per ledger, whatever the page size."""
    found: dict[str, list[Entry]] = {doc: [] for doc in homes}
    by_file: dict[Path, tuple[Ledger, list[str]]] = {}
    for doc, ledger in homes.items():
        by_file.setdefault(ledger.db_path, (ledger, []))[1].append(doc)
    for ledger, docs in by_file.values():
        with ledger.reader() as reader:
            query = "SELECT doc, body FROM entries WHERE list_contains(?, doc) ORDER BY seq"
            for doc, body in reader.con.execute(query, [docs]).fetchall():
                found[doc].append(Entry.from_canonical(bytes(body)))
    return found


def _view(settings: Settings, doc: str, history: list, *, timeline: bool = False) -> DocView | None:
    try:
        result = DocumentResult.model_validate_json((settings.outbox / f"{doc}.json").read_bytes())
    except (OSError, ValueError):
        return None
    state = fold_state(doc, history)
    policy_entry = next((e for e in history if e.kind == EntryKind.DECIDED.value), None)
    ingested = next((e for e in history if e.kind == EntryKind.INGESTED.value), None)
    return DocView(
        doc=doc,
        source=result.source,
        kind=result.kind.value,
        state=result.state.value,
        maker=state.maker or "unknown",
        rule=state.rule or "",
        amount=policy_entry.data.get("amount") if policy_entry else None,
        deadline=state.deadline.isoformat(timespec="minutes") if state.deadline else None,
        approvals_required=state.approvals_required,
        approvals=_approvals(state),
        fields=dict(result.fields),
        findings=[(f.code, plain_finding(f.code, f.message, f.fields)) for f in result.findings],
        timeline=[(e.seq, e.ts, str(e.kind), e.actor) for e in history] if timeline else [],
        pages=int(ingested.data.get("pages", 0)) if ingested else 0,
        decided=decided_outcome(state, history, result.state),
        approval=state,
    )


def _approvals(state: ApprovalState) -> list[Approval]:
    return [Approval(c.person, c.role.value, "approve", c.at) for c in state.approvals] + [
        Approval(c.person, c.role.value, "reject", c.at) for c in state.rejections
    ]


def decided_outcome(
    state: ApprovalState, history: list[Entry], outbox_state: DocState = DocState.AWAITING_APPROVAL
) -> Decided | None:
    """The outcome when nobody may decide any more: a final entry, counted decisions that settle the round, or
    an outbox record that left ``awaiting_approval`` (a history this ledger does not hold)."""
    approvals = _approvals(state)
    final = next((e for e in reversed(history) if e.kind in _FINAL_KINDS), None)
    if final is not None:
        return Decided(_FINAL_KINDS[final.kind], state.rule or "", final.ts, approvals)
    if state.outcome is not None:
        at = max(approval.at for approval in approvals) if approvals else None
        return Decided(_SETTLED[state.outcome], state.rule or "", at, approvals)
    if outbox_state != DocState.AWAITING_APPROVAL:
        return Decided(outbox_state.value.replace("_", " "), state.rule or "", None, approvals)
    return None
