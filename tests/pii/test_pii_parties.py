"""Persons inside party fields the policy leaves in clear: masked after the company part, the company kept."""

from __future__ import annotations

import pytest

from docval.domain import DocKind, ExtractedField, Tier
from pii.engine import PiiEngine
from pii.parties import contact_tail
from tests.pii.piihelpers import doc_id


@pytest.mark.parametrize(
    ("value", "company", "person"),
    [
        ("Acme Widgets GmbH Hans Müller", "Acme Widgets GmbH", "Hans Müller"),
        ("Acme Widgets GmbHHans Müller", "Acme Widgets GmbH", "Hans Müller"),  # pypdf glued two text runs
        ("Acme Widgets GmbH, z. Hd. Hans Müller", "Acme Widgets GmbH", "Hans Müller"),
        ("Muster Consulting Ltd Sarah Connor", "Muster Consulting Ltd", "Sarah Connor"),
        ("Beta Services, Attn: John Smith", "Beta Services", "John Smith"),
    ],
)
def test_contact_person_in_a_supplier_name_is_masked(engine: PiiEngine, value: str, company: str, person: str) -> None:
    fields = {"seller_name": ExtractedField(value=value, confidence=0.9, tier=Tier.RULES)}
    masked = engine.mask_fields(fields, kind=DocKind.INVOICE, doc=doc_id(value)).fields["seller_name"].value
    assert masked.startswith(company) and person not in masked and person.split()[-1] not in masked
    assert masked != value


@pytest.mark.parametrize(
    "value",
    ["Bei Spiel GmbH", "Kunden AG Mitte", "Jean Dupont SARL", "Lieferant GmbH, Lieferantenstraße 20, 80333 München"],
)
def test_company_names_and_addresses_stay_in_clear(engine: PiiEngine, value: str) -> None:
    """NER alone calls 'Bei Spiel' and 'Jean Dupont' persons; before the legal form it is never asked."""
    fields = {"seller_name": ExtractedField(value=value, confidence=0.9, tier=Tier.RULES)}
    assert engine.mask_fields(fields, kind=DocKind.INVOICE, doc=doc_id(value)).fields["seller_name"].value == value


def test_contact_tail() -> None:
    assert contact_tail("Acme AG") == len("Acme AG")
    assert contact_tail("Acme Widgets") is None
    assert contact_tail("Hauptstraße 5, 10115 Berlin") is None
    assert contact_tail("Stage Agency, c/o Anna Berg") == len("Stage Agency, c/o ")


@pytest.mark.parametrize("order", [("seller_name", "buyer_name"), ("buyer_name", "seller_name")])
def test_a_clear_field_repeating_a_masked_one_is_masked_too(engine: PiiEngine, order: tuple[str, str]) -> None:
    """A scan's reader took the buyer's block for the seller's as well: the buyer name is personal (masked whole),
    the seller name is left in clear, and the same value must not reach the outbox through the clear one."""
    value = "Abbott PLC"
    fields = {name: ExtractedField(value=value, confidence=0.9, tier=Tier.RULES) for name in order}
    masked = engine.mask_fields(fields, kind=DocKind.INVOICE, doc=doc_id(value + "".join(order))).fields
    assert list(masked) == list(order)
    assert masked["buyer_name"].value == masked["seller_name"].value != value
