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

from dataclasses import dataclass

from docval.settings import RouterSettings
from extractors.extract import extract
from extractors.model import load_model
from extractors.pdf import PdfDocument
from extractors.router import Router
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

    def __call__(self, document: PdfDocument) -> Extraction:
        return extract(document, _router(self))


_ROUTERS: dict[str, Router] = {}  # per process (a sandbox child): the model loads once, on first use


def _router(reader: LocalReader) -> Router:
    key = f"{reader.trained}:{reader.settings.model_dump_json()}"
    if key not in _ROUTERS:
        trained = load_model() if reader.trained else None
        _ROUTERS[key] = Router(reader.settings, [], day_budget=None, mask=None, trained=trained)
    return _ROUTERS[key]
