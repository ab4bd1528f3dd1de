"""Personal data inside fields the PII policy leaves in clear (issue 14, item 7).

``pii.yaml`` keeps the supplier's name and address readable, but a layout may
glue a contact person onto the company ("Acme Widgets GmbH Hans Müller"). A
real invoice PDF with such a seller runs through every stage as plain calls
(ingest in the sandbox, rules, validation, masking, outbox, ledger); the
outbox record must keep the company and hold no raw name, e-mail or phone,
by `docval pii scan`'s own logic (the vault's originals and its patterns).
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from docval.settings import Settings
from pii.engine import PiiEngine

CONTACT = "Hans Müller"
SELLER = f"Acme Widgets GmbH {CONTACT}"


def _invoice_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    lines = [
        "INVOICE",
        SELLER,
        "Hauptstraße 5, 10115 Berlin, Tel. +49 30 12345678, hans.mueller@acme-widgets.de",
        "VAT ID: DE136695976",
        "Invoice number: RE-2026-0815",
        "Invoice date: 12.03.2026",
        "Due date: 11.04.2026",
        "Bill to:",
        "Beta Logistics AG",
        "Net total: 100.00",
        "VAT 19%: 19.00",
        "Total due: 119.00 EUR",
        "IBAN: DE89 3704 0044 0532 0130 00",
    ]
    y = A4[1] - 60
    for line in lines:
        canvas.drawString(50, y, line)
        y -= 16
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_contact_person_glued_to_the_supplier_name_is_masked_in_the_outbox(settings: Settings) -> None:
    from flows.appliance import prepare
    from flows.batch import build_context
    from flows.pipeline import load_batch, run_stages
    from flows.worker import Worker

    prepare(settings)
    ctx = build_context(settings)
    worker = Worker(
        ctx,
        process=lambda docs, resumed: {
            w.doc: w.state.value for w in run_stages(ctx, load_batch(ctx, docs, resumed=resumed))
        },
        request_approvals=len,
    )
    (settings.inbox / "supplier-with-contact.pdf").write_bytes(_invoice_pdf())
    docs = worker.claim(sorted(settings.inbox.glob("*.pdf")))
    worker.run_batch(docs, resumed=False)

    records = sorted(path for path in settings.outbox.rglob("*") if path.is_file())
    assert records, "the invoice must reach the outbox"
    outbox = "\n".join(path.read_text() for path in records)
    assert "Acme Widgets GmbH" in outbox  # the company stays in clear, as the policy says
    assert "Müller" not in outbox and "mueller" not in outbox and "12345678" not in outbox
    engine = PiiEngine.from_settings(settings)
    assert ("PERSON", CONTACT) in set(engine.vault.originals())  # it was found, and only the vault holds it
    assert engine.scan([settings.outbox]) == []
