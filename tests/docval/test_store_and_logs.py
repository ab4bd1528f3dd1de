from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from docval.domain import DocKind, DocState
from docval.hashing import KeyedHasher
from docval.logs import RedactingFilter, redact
from docval.settings import Settings
from docval.store import DocumentStore

DOC_A, DOC_B = "a" * 64, "b" * 64


def test_claim_is_idempotent_and_duplicates_are_found(settings: Settings) -> None:
    store = DocumentStore(settings.store_db)
    assert store.claim(DOC_A, "src-a") is True
    assert store.claim(DOC_A, "src-a") is False
    store.claim(DOC_B, "src-b")
    store.update(DOC_A, kind=DocKind.INVOICE, state=DocState.PUBLISHED)
    assert store.mark_invoices({DOC_B: ("s", "n"), DOC_A: ("s", "n")}) == {DOC_B: DOC_A}  # A, claimed first, is not
    assert store.mark_invoices({DOC_B: ("s", "other")}) == {}
    record = store.get(DOC_A)
    assert record is not None and record.state is DocState.PUBLISHED and record.kind is DocKind.INVOICE
    assert [r.doc for r in store.all()] == [DOC_A, DOC_B]


@hypothesis_settings(deadline=None, max_examples=12)  # two new DuckDB files per example, ~0.2 s
@given(batches=st.lists(st.lists(st.sampled_from("abcdef"), max_size=6), min_size=1, max_size=4))
def test_claims_in_one_statement_are_claims_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]]
) -> None:
    """A batch claimed at once inserts exactly what claiming its documents one by one would, in the same order."""
    folder = tmp_path_factory.mktemp("store")
    together, alone = DocumentStore(folder / "together.duckdb"), DocumentStore(folder / "alone.duckdb")
    for batch in batches:
        claims = [(letter * 64, f"src-{letter}-{index}") for index, letter in enumerate(batch)]
        inserted = together.claim_many(claims)
        assert inserted == {doc for doc, source in claims if alone.claim(doc, source)}
        # in claim order, each a time of its own: the earlier of two equal invoices is the original, not both
        new = list(dict.fromkeys(doc for doc, _ in claims if doc in inserted))
        times = [together.get(doc).claimed_at for doc in new]
        assert times == sorted(set(times))
    assert [(r.doc, r.source_hash) for r in together.all()] == [(r.doc, r.source_hash) for r in alone.all()]
    assert together.claim_many([]) == set()


_KINDS = st.sampled_from([None, DocKind.INVOICE, DocKind.KYC_FORM])


@hypothesis_settings(deadline=None, max_examples=12)  # two new DuckDB files per example
@given(updates=st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(list(DocState)), _KINDS), max_size=6))
def test_final_states_in_one_statement_are_updates_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, updates: list[tuple[str, DocState, DocKind | None]]
) -> None:
    """A batch's final states set at once (the finish stage) leave every row as one update each would."""
    folder = tmp_path_factory.mktemp("store")
    together, alone = DocumentStore(folder / "together.duckdb"), DocumentStore(folder / "alone.duckdb")
    for store in (together, alone):
        store.claim_many([(letter * 64, letter) for letter in "abc"])  # "d" is not claimed: nothing to update
        store.update("a" * 64, kind=DocKind.OTHER)
    rows = list({letter * 64: (letter * 64, state, kind) for letter, state, kind in updates}.values())  # one per doc
    together.update_states(rows)
    for doc, state, kind in rows:
        alone.update(doc, state=state, kind=kind)
    assert [(r.doc, r.state, r.kind) for r in together.all()] == [(r.doc, r.state, r.kind) for r in alone.all()]


@hypothesis_settings(deadline=None, max_examples=15)
@given(keys=st.lists(st.sampled_from(["x", "y", None]), min_size=1, max_size=6), data=st.data())
def test_a_marked_invoice_is_the_duplicate_of_the_first_claimed_before(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str | None], data: st.DataObject
) -> None:
    """Documents claimed in order, each with an invoice key (or none); the first ones marked in an earlier batch,
    the others in one batch in any order: each is the duplicate of the first claimed before it with its key."""
    store = DocumentStore(tmp_path_factory.mktemp("store") / "store.duckdb")
    docs = [f"{index:064x}" for index in range(len(keys))]
    store.claim_many([(doc, doc) for doc in docs])
    keyed = [(doc, key) for doc, key in zip(docs, keys, strict=True) if key is not None]
    cut = data.draw(st.integers(0, len(keyed)))
    found = store.mark_invoices({doc: ("s", key) for doc, key in keyed[:cut]})
    found |= store.mark_invoices({doc: ("s", key) for doc, key in data.draw(st.permutations(keyed[cut:]))})
    for doc, key in keyed:
        before = [other for other, its in keyed if its == key and docs.index(other) < docs.index(doc)]
        assert found.get(doc) == (before[0] if before else None)


def test_keyed_hash_is_stable_per_secret_and_purpose(settings: Settings) -> None:
    hasher = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    assert (settings.keys_dir / "hmac.key").stat().st_mode & 0o777 == 0o600
    again = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
    assert hasher("DE89370400440532013000") == again("DE89370400440532013000")
    assert hasher("x", purpose="iban") != hasher("x", purpose="name")
    assert KeyedHasher(b"k" * 32)("x") != hasher("x")
    with pytest.raises(ValueError):
        KeyedHasher(b"short")


@pytest.mark.parametrize(
    "secret",
    ["jane.doe@example.com", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "4111 1111 1111 1111"],
)
def test_redacting_filter_blanks_pii_shaped_values(secret: str, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("docval.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="docval.test"):
        logger.info("value was %s in doc %s", secret, "f" * 64)
    assert secret not in caplog.text
    assert "f" * 64 in caplog.text, "document ids (hex) must survive redaction"


@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_hex_ids_are_never_redacted(doc_id: str) -> None:
    assert redact(f"doc {doc_id} done") == f"doc {doc_id} done"


def test_a_session_is_one_transaction(settings: Settings) -> None:
    """A stage's writes commit together at the end of its session; a session that fails leaves none of them."""
    store = DocumentStore(settings.store_db)
    with store.session() as session:
        session.claim("doc-a", "h-a")
        session.update("doc-a", state=DocState.PUBLISHED, kind=DocKind.INVOICE)
        assert session.get("doc-a").state is DocState.PUBLISHED  # its own writes are visible inside
    with pytest.raises(RuntimeError), store.session() as session:
        session.claim("doc-b", "h-b")
        session.update("doc-a", state=DocState.REJECTED)
        raise RuntimeError("the stage failed")
    assert store.get("doc-b") is None
    assert store.get("doc-a").state is DocState.PUBLISHED
