"""Labelled documents for training and cross-validation: generated layouts and the shared real corpora.

Each ``Sample`` carries the page text exactly as the appliance reads it
(``load_pdf``, sandboxed), the truth, the rules tier's answers (needed to fit
the rules' calibration and to route as the appliance does) and its
``template_key``. Real e-invoices are grouped as
``shared/data/einvoice-train/build.py`` groups them: the seller name
(casefolded, NFKC, first 25 characters) and the PDF's producer | creator
with digit runs replaced by '#' (first 60 characters).

A real corpus's truth comes from the embedded XML, and the model reads the
page: a value the page prints nowhere (another document's totals on the
page, a seller the XML names differently) or a ``null`` (the XML does not
carry the field, e.g. a MINIMUM profile has no IBAN, though the page may
print one) cannot make a page reading right or wrong, so it is left
unlabelled for training and calibration. Whether page and XML agree is the
e-invoice cross-check's question (``EINVOICE_MISMATCH``), not the reader's.

Scanned renders (``extractors/scans.py``) of generated invoices are read
through the OCR path as the appliance reads a scan; their answers fit the
OCR calibration curves. OCR is the slow part (about a second per page), so
two documents are read at once (the sandbox pool serves several threads).

Generated KYC forms (``extractors/kyc_forms.py``), as text PDFs and as scans,
only fit the ``kyc:`` curves of the rules' confidences: the model reads no
KYC field.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pypdf

from docval.domain import DocKind, ExtractedField
from docval.settings import ExtractSettings
from extractors.evaluate import load_dataset
from extractors.kyc_forms import generate_kyc
from extractors.layouts import GeneratedInvoice, generate
from extractors.pdf import PageText, PdfDocument, load_pdf
from extractors.printed import is_printed
from extractors.rules import extract_rules, merge_views, wants_layout
from extractors.scans import scanned

__all__ = [
    "Sample",
    "corpus_samples",
    "generated_samples",
    "kyc_samples",
    "rules_fields",
    "scanned_samples",
    "template_key",
]


@dataclass
class Sample:
    doc_id: str
    source: str  # generated | scanned | zugferd | invoice2data | einvoice-train
    group: str  # template_key as one string
    pages: list[PageText]
    truth: dict[str, str | None]
    rules: dict[str, ExtractedField]
    labels: dict[str, str | None]  # the truth training and calibration judge page readings by (see above)


def rules_fields(document: PdfDocument, kind: DocKind = DocKind.INVOICE) -> dict[str, ExtractedField]:
    """The rules tier over the visible text, as ``extract`` runs it (layout view when the plain one is weak)."""
    pages = list(document.pages)
    fields = extract_rules(pages, kind)
    if wants_layout(fields, kind) and (layout := document.layout_pages()) is not None:
        fields = merge_views(fields, extract_rules(layout, kind), pages, layout)
    return fields


def generated_samples(seed: int, count: int, settings: ExtractSettings, layouts: tuple[int, ...]) -> list[Sample]:
    """``count`` generated invoices from the given layouts, read back through the appliance's PDF reader."""
    return _read_generated(generate(seed, count, layouts=layouts), "generated", settings, threads=1)


def scanned_samples(seed: int, count: int, settings: ExtractSettings, layouts: tuple[int, ...]) -> list[Sample]:
    """``count`` generated invoices from the given layouts as noisy scans (``scans.scanned``), read by OCR."""
    invoices = [invoice for invoice, _ in scanned(generate(seed, count, layouts=layouts), seed)]
    return _read_generated(invoices, "scanned", settings, threads=2)


def kyc_samples(
    seed: int, count: int, settings: ExtractSettings, layouts: tuple[int, ...], *, scans: bool
) -> list[Sample]:
    """``count`` generated KYC forms from the given layouts, as text PDFs or as noisy scans read by OCR."""
    forms = generate_kyc(seed, count, layouts=layouts)
    if scans:
        forms = [form for form, _ in scanned(forms, seed)]
    return _read_generated(forms, "kyc-scanned" if scans else "kyc", settings, threads=2, kind=DocKind.KYC_FORM)


def _read_generated(
    invoices: list[GeneratedInvoice],
    source: str,
    settings: ExtractSettings,
    threads: int,
    kind: DocKind = DocKind.INVOICE,
) -> list[Sample]:
    """Each invoice written to a file and read as the appliance reads it, ``threads`` at a time, in order."""
    with tempfile.TemporaryDirectory(prefix="docval-gen-") as folder:

        def read(invoice: GeneratedInvoice) -> Sample:
            path = Path(folder) / invoice.name
            path.write_bytes(invoice.pdf)
            document = load_pdf(path, settings)
            pages = list(document.pages)
            return Sample(
                invoice.name if source == "generated" else f"{source}-{invoice.name}",
                source,
                invoice.template_key,
                pages,
                invoice.truth,
                rules_fields(document, kind),
                invoice.truth,
            )

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(read, invoices))


def corpus_samples(root: Path, settings: ExtractSettings) -> list[Sample]:
    """A shared corpus folder (ZUGFeRD-style ``ground_truth.json`` or invoice2data ``index.json``)."""
    name, documents = load_dataset(root)
    samples = []
    for labelled in documents:
        document = load_pdf(labelled.path, settings)
        seller = labelled.truth.get("seller_name") or labelled.doc_id
        samples.append(
            Sample(
                labelled.doc_id,
                name,
                " | ".join(template_key(seller, labelled.path)),
                list(document.pages),
                dict(labelled.truth),
                rules_fields(document),
                _readable_truth(labelled.truth, document),
            )
        )
    return samples


def _readable_truth(truth: dict[str, str | None], document: PdfDocument) -> dict[str, str | None]:
    """The truth a reader of the page can be judged on: values the page prints somewhere, in any style."""
    text = "\n".join(page.text for page in document.pages)
    return {name: value for name, value in truth.items() if value is not None and is_printed(name, value, text)}


def template_key(seller_name: str, pdf: Path) -> list[str]:
    """[folded seller name[:25], folded producer | creator with digit runs as '#'[:60]], as build.py has it."""
    try:
        meta = pypdf.PdfReader(pdf, strict=False).metadata or {}
        produced = str(meta.get("/Producer") or "") + " | " + str(meta.get("/Creator") or "")
    except Exception:
        produced = ""
    return [_fold(seller_name)[:25], re.sub(r"[\d.]+", "#", _fold(produced))[:60]]


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
