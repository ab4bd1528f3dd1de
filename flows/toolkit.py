"""The other packages as the pipeline calls them: one method per step, each returning its ledger payload.

This is the only module of flows/ that knows the APIs of extractors/ and pii/.
It is built once per worker process (Presidio and the router are expensive to
load) and turns each step's output into the ``docval.events`` payload that the
ledger records: field provenance and keyed hashes of values, entity counts,
finding codes — never values.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docval.domain import ExtractedField, Finding
from docval.events import ExtractedPayload, IngestedPayload, MaskedPayload, ValidatedPayload
from docval.hashing import KeyedHasher
from docval.names import shown
from docval.settings import Settings
from docval.store import DocumentStore
from flows.ahead import Parses

if TYPE_CHECKING:
    from extractors.pdf import PdfDocument
    from extractors.router import Router
    from extractors.schemas import Extraction
    from pii import PiiEngine

__all__ = ["IngestFailure", "Ingested", "Toolkit"]


class IngestFailure(Exception):
    """The file cannot be processed (encrypted, malformed, not a PDF, over a limit): quarantine it."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Ingested:
    """A parsed document and, when the parser's sandbox child could read it too, its extraction."""

    document: PdfDocument
    extraction: Extraction | None = None  # None: ``Toolkit.extract`` reads it in this process


@dataclass
class Toolkit:
    settings: Settings
    hasher: KeyedHasher
    router: Router
    pii: PiiEngine
    parses: Parses[tuple[Ingested, IngestedPayload]] = field(init=False, repr=False)  # ``ingest``, started ahead

    def __post_init__(self) -> None:
        self.parses = Parses(lambda path: self.ingest(path))

    @classmethod
    def from_settings(cls, settings: Settings, *, start_children: bool = False) -> Toolkit:
        """``start_children``: a worker's toolkit starts its reading children (``LocalReader.start_children``)
        before it loads Presidio and the model, so all load at once; else they start on its first documents."""
        from extractors.local import LocalReader
        from extractors.router import Router
        from pii import PiiEngine

        reader = LocalReader.for_settings(settings.extract.router) if start_children else None
        if reader is not None:
            reader.start_children(settings.extract)
        pii = PiiEngine.from_settings(settings)
        return cls(
            settings=settings,
            hasher=KeyedHasher.from_file(settings.keys_dir / "hmac.key"),
            router=Router.from_settings(settings, mask=pii.mask_function()),
            pii=pii,
        )

    @property
    def extracts_locally(self) -> bool:
        """No endpoint model tier is configured: extracting a document sends nothing anywhere and spends nothing."""
        return not self.router.tiers

    def ingest(self, path: Path) -> tuple[Ingested, IngestedPayload]:
        """Parse ``path``; with no endpoint tier, the parser's child extracts it too (``extractors.local``), so
        extraction runs on both cores instead of in this one process."""
        from extractors.local import LocalReader
        from extractors.pdf import IngestError, read_pdf

        try:
            document, extraction = read_pdf(path, self.settings.extract, LocalReader.of(self.router))
        except IngestError as error:
            raise IngestFailure(error.code, error.detail) from None
        ocr_pages = sum(1 for page in document.pages if page.source == "ocr")
        return Ingested(document, extraction), IngestedPayload(
            pages=len(document.pages), text_pages=len(document.pages) - ocr_pages, ocr_pages=ocr_pages
        )

    def extract(self, ingested: Ingested) -> tuple[Extraction, ExtractedPayload]:
        """The child's extraction, or this process's own (OCR pages, endpoint tiers, a child that failed it)."""
        from extractors.extract import extract

        extraction = ingested.extraction
        if extraction is None:
            extraction = extract(ingested.document, self.router)
        return extraction, ExtractedPayload(
            kind=extraction.kind,
            fields={name: self._provenance(name, value) for name, value in extraction.fields.items()},
            calls=extraction.calls,
            prompt_versions=extraction.prompt_versions,
            tokens=sum(call.tokens_in + call.tokens_out for call in extraction.calls),
            usd=float(sum(call.usd for call in extraction.calls)),
            needs_review=extraction.needs_review,
            review_reason=extraction.review_reason,
        )

    def _provenance(self, name: str, value: ExtractedField) -> dict:
        encoded = json.dumps(value.value, sort_keys=True, default=str)
        return {
            "tier": value.tier,
            "confidence": value.confidence,
            "page": value.page,
            "value_hash": self.hasher(encoded, purpose=f"field:{name}"),
        }

    def duplicates(self, extractions: dict[str, Extraction], store: DocumentStore) -> dict[str, list[Finding]]:
        """A part's ``DUPLICATE`` findings by document, its invoices keyed all at once (``extractors.validate``)."""
        from extractors.validate import duplicates

        return duplicates(extractions, store, self.hasher)

    def validate(self, extraction: Extraction, duplicate: list[Finding]) -> tuple[list[Finding], ValidatedPayload]:
        """Validation findings (``duplicate``: this document's from ``duplicates``) plus what extraction itself raised
        (XML vs text mismatch, fields left to a person)."""
        from extractors.validate import validate

        findings = list(extraction.findings)
        findings += validate(extraction, settings=self.settings.extract)
        findings += duplicate
        if extraction.needs_review:
            findings.append(Finding(code="NEEDS_REVIEW", message="extraction left fields for a person to confirm"))
        return findings, ValidatedPayload(findings=findings)

    def mask_source(self, source: str, doc: str | None) -> str:
        """The inbox name as the outbox, ``pending``, the workbench and reports show it: escaped, then pseudonymised.

        Names hold what people type into them (a supplier's IBAN, a customer's e-mail); only those parts are
        masked (``PiiEngine.mask_name``), so ``kyc-016.pdf`` stays readable. The originals go to the vault
        under the document, like field values, so a reader with the PII role can still reveal them (a file
        refused before it has an id, ``doc`` None, keeps them nowhere).
        """
        return self.pii.mask_name(shown(source), doc=doc).text

    def one_vault_commit(self) -> AbstractContextManager[None]:
        """What is masked inside the block reaches the PII vault in one commit (``Vault.batch``): a commit costs
        an fsync, more than masking a document, so the pipeline commits once per part of a batch."""
        return self.pii.vault.batch()

    def remembering_analyses(self) -> AbstractContextManager[None]:
        """PII analyses made inside the block are made once (``Analyzer.remembering``): one part of a batch."""
        return self.pii.remembering()

    def analyse_ahead(self, ingested: Ingested, source: str) -> None:
        """Make now the PII analyses ``mask`` and ``mask_source`` will need for this document (``PiiEngine.
        analyse_ahead``). The ingest stage calls it as each parse arrives, while the children parse the others, so
        those analyses run beside the parsing instead of after it, on one core. Only for a document its child
        extracted: extracting one here could call an endpoint tier, which the extract stage does once."""
        if ingested.extraction is not None:
            self.pii.analyse_ahead(ingested.extraction.fields, ingested.extraction.kind, shown(source))

    def mask(self, extraction: Extraction, doc: str) -> tuple[dict[str, ExtractedField], MaskedPayload]:
        masked = self.pii.mask_fields(extraction.fields, kind=extraction.kind, doc=doc)
        return masked.fields, masked.event()
