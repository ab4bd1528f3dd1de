"""A fresh ledger with a real key in the per-test data directory."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from docval.settings import Settings
from ledger import EntryDraft, Ledger, init_keys


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    init_keys(settings.keys_dir, settings.ledger.key_name)
    return Ledger.open(settings)


def make_drafts(count: int, doc: str | None = "doc-a") -> list[EntryDraft]:
    return [EntryDraft("note", doc, "tests", {"n": i, "text": f"entry {i}"}) for i in range(count)]


@pytest.fixture
def drafts() -> Callable[..., list[EntryDraft]]:
    """``drafts(n, doc=...)``: n small note entries."""
    return make_drafts
