"""Extraction that runs where the PDF was parsed: in the sandbox child, beside the parser.

A pipeline worker is one process; parsing runs in two sandbox children. Extraction (rules on both views, the
trained tier) cost the worker ~30 ms CPU per real PDF, serially, so one core did it all while the children
shared the other (benchmarks/README.md, stage_bench.py). ``LocalReader`` is what a child needs to extract a
document exactly as the worker's router would - the router's settings and whether the shipped model is on, a few
hundred bytes, never the model itself - and ``extractors.pdf.read_pdf`` runs it right after the parse, so both
cores extract.

Only routers without endpoint tiers qualify: an endpoint call spends money and sends text, which must not happen
before the document's ingest is ledgered, and a child must never hold keys or network clients.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from docval.settings import ExtractSettings, RouterSettings
from extractors.extract import extract
from extractors.model import load_model
from extractors.pdf import PdfDocument, reading_sandbox
from extractors.router import Router
from extractors.sandbox import Sandbox, SandboxCrashed, SandboxMemory, SandboxTimeout
from extractors.schemas import Extraction

__all__ = ["LocalReader"]


@dataclass(frozen=True)
class LocalReader:
    """``extract(document, router)`` for a router made of the rules and, if ``trained``, the shipped model."""

    settings: RouterSettings
    trained: bool

    @classmethod
    def of(cls, router: Router) -> LocalReader | None:
        """The reader that extracts as ``router`` does, or ``None`` when a child cannot (endpoint tiers, or a
        trained model other than the shipped one)."""
        if router.tiers or (router.trained is not None and router.trained is not load_model()):
            return None
        return cls(router.settings, router.trained is not None)

    @classmethod
    def for_settings(cls, settings: RouterSettings) -> LocalReader | None:
        """The reader ``of`` gives for a router built from ``settings`` (with a mask function: the pipeline's),
        known before that router is built and its model loaded."""
        if settings.local.enabled or settings.remote.enabled:
            return None
        return cls(settings, settings.trained_model)

    def __call__(self, document: PdfDocument) -> Extraction:
        return extract(document, _router(self))

    def start_children(self, limits: ExtractSettings, count: int = 2) -> None:
        """Start ``count`` reading children now, in the background, each with its imports done and model loaded.

        A worker calls this before it loads its own PII models: a child's start (NumPy, pypdf and the model,
        ~0.4 s CPU) then runs on the core the worker's single thread leaves idle, not before the first documents.
        A child that fails to start is no error here; the first document meets that in its own place.
        """
        sandbox = reading_sandbox(limits, self)
        if sandbox is None:
            return
        for _ in range(count):
            threading.Thread(target=_start_child, args=(sandbox, self, limits), daemon=True).start()


def _start_child(sandbox: Sandbox, reader: LocalReader, limits: ExtractSettings) -> None:
    with contextlib.suppress(SandboxCrashed, SandboxMemory, SandboxTimeout):
        sandbox.run(_load, reader, timeout=limits.parse_timeout_seconds)


def _load(reader: LocalReader) -> str | None:
    """Child side: the router ``reader`` extracts with, model loaded and kept for the child's life; its version."""
    trained = _router(reader).trained
    return trained.version if trained is not None else None


_ROUTERS: dict[str, Router] = {}  # per process (a sandbox child): the model loads once, on first use


def _router(reader: LocalReader) -> Router:
    key = f"{reader.trained}:{reader.settings.model_dump_json()}"
    if key not in _ROUTERS:
        trained = load_model() if reader.trained else None
        _ROUTERS[key] = Router(reader.settings, [], day_budget=None, mask=None, trained=trained)
    return _ROUTERS[key]
