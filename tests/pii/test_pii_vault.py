"""The vault: AES-GCM per subject, wrapped keys, role-checked reveal with an audit payload, crypto-shredding."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from piihelpers import doc_id

from docval.events import PiiErasedPayload, PiiRevealedPayload
from docval.settings import Settings
from pii import PiiAccessDenied, PiiEngine, PiiError, SubjectErased

READER = {"pii_reader"}


@pytest.fixture
def engine_with_two_subjects(fresh_settings: Settings) -> tuple[PiiEngine, str, str]:
    engine = PiiEngine.from_settings(fresh_settings)
    doc_a, doc_b = doc_id("vault-a"), doc_id("vault-b")
    engine.mask_text("Name: Ana Souza\nIBAN DE89 3704 0044 0532 0130 00", doc=doc_a, subject="alice")
    engine.mask_text("Name: Bo Li\nmail bo.li@example.org", doc=doc_b, subject="bob")
    return engine, doc_a, doc_b


def test_files_are_private_and_hold_no_plaintext(
    engine_with_two_subjects: tuple[PiiEngine, str, str], fresh_settings: Settings
) -> None:
    engine, _, _ = engine_with_two_subjects
    master = fresh_settings.keys_dir / "pii-master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    raw = engine.vault.path.read_bytes()
    for value in (b"Ana Souza", b"DE89", b"Bo Li", b"bo.li@example.org", b"alice", b"bob"):
        assert value not in raw


def test_reveal_needs_the_role_and_emits_an_audit_payload(
    engine_with_two_subjects: tuple[PiiEngine, str, str],
) -> None:
    engine, doc_a, _ = engine_with_two_subjects
    with pytest.raises(PiiAccessDenied):
        engine.vault.reveal(doc_a, "<PERSON_1>", user="mallory", roles={"reviewer"})
    revelation = engine.vault.reveal(doc_a, "<IBAN_CODE_1>", user="carol", roles=READER)
    assert revelation.value == "DE89 3704 0044 0532 0130 00"
    event = revelation.event
    assert isinstance(event, PiiRevealedPayload)
    assert (event.user, event.role, event.token) == ("carol", "pii_reader", "<IBAN_CODE_1>")
    assert event.subject == engine.vault.subject_ref("alice")
    assert "DE89" not in event.model_dump_json()
    with pytest.raises(PiiError):
        engine.vault.reveal(doc_a, "<PERSON_9>", user="carol", roles=READER)


def test_tampered_ciphertext_is_detected(engine_with_two_subjects: tuple[PiiEngine, str, str]) -> None:
    engine, doc_a, doc_b = engine_with_two_subjects
    with sqlite3.connect(engine.vault.path) as db:  # move bob's ciphertext onto alice's row: AAD binds doc+token
        sealed = db.execute("SELECT ciphertext FROM entries WHERE doc = ? AND token = '<PERSON_1>'", (doc_b,))
        db.execute(
            "UPDATE entries SET ciphertext = ? WHERE doc = ? AND token = '<PERSON_1>'", (sealed.fetchone()[0], doc_a)
        )
    with pytest.raises(PiiError, match="fails authentication"):
        engine.vault.reveal(doc_a, "<PERSON_1>", user="carol", roles=READER)


def test_erase_shreds_one_subject_and_leaves_the_rest_working(
    engine_with_two_subjects: tuple[PiiEngine, str, str],
) -> None:
    engine, doc_a, doc_b = engine_with_two_subjects
    alice = engine.vault.subject_ref("alice")
    assert alice in engine.vault.subjects()
    with sqlite3.connect(engine.vault.path) as db:
        wrapped = db.execute("SELECT wrapped_key FROM subjects WHERE ref = ?", (alice,)).fetchone()[0]
    event = engine.vault.erase("alice")
    assert isinstance(event, PiiErasedPayload)
    assert (event.subject, event.entries, event.key_destroyed) == (alice, 2, True)
    assert alice not in engine.vault.subjects()
    with pytest.raises(PiiError):
        engine.vault.reveal(doc_a, "<PERSON_1>", user="carol", roles=READER)
    assert {value for _, value in engine.vault.originals()} == {"Bo Li", "bo.li@example.org"}
    assert wrapped not in engine.vault.path.read_bytes()  # vacuumed: not even in free pages
    assert engine.vault.reveal(doc_b, "<PERSON_1>", user="carol", roles=READER).value == "Bo Li"
    # erasing again is harmless, and a returning subject starts afresh with a new key
    assert engine.vault.erase("alice").key_destroyed is False
    again = engine.mask_text("Name: Ana Souza", doc=doc_id("vault-c"), subject="alice")
    assert again.text == "Name: <PERSON_1>"


def test_a_wrapped_key_without_the_master_key_is_useless(
    engine_with_two_subjects: tuple[PiiEngine, str, str], fresh_settings: Settings
) -> None:
    engine, doc_a, _ = engine_with_two_subjects
    (fresh_settings.keys_dir / "pii-master.key").write_bytes(b"\x00" * 32)
    with pytest.raises(PiiError, match="master key does not open"):
        engine.vault.reveal(doc_a, "<PERSON_1>", user="carol", roles=READER)


def test_erased_subject_is_reported_as_erased_when_its_rows_survive(
    engine_with_two_subjects: tuple[PiiEngine, str, str],
) -> None:
    """A restored backup of entries without the key row: the values stay unreadable and say why."""
    engine, doc_a, _ = engine_with_two_subjects
    with sqlite3.connect(engine.vault.path) as db:
        rows = db.execute("SELECT * FROM entries WHERE subject = ?", (engine.vault.subject_ref("alice"),)).fetchall()
    engine.vault.erase("alice")
    with sqlite3.connect(engine.vault.path) as db:
        db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", rows)
    with pytest.raises(SubjectErased):
        engine.vault.reveal(doc_a, "<PERSON_1>", user="carol", roles=READER)


def test_a_view_masks_with_known_pseudonyms_and_stores_nothing(
    engine_with_two_subjects: tuple[PiiEngine, str, str],
) -> None:
    """The workbench's masked page text: it stored fresh originals, even of a subject erased since (issue 13)."""
    engine, doc_a, _ = engine_with_two_subjects
    before = _stored(engine)
    view = engine.mask_text(
        "Name: Ana Souza, phone +49 30 1234567, Carla Mendes", doc=doc_a, subject="alice", store=False
    )
    assert "<PERSON_1>" in view.text and "Ana Souza" not in view.text and "Carla Mendes" not in view.text
    assert _stored(engine) == before
    engine.vault.erase("alice")
    after_erasure = engine.mask_text("Name: Ana Souza", doc=doc_a, subject="alice", store=False)
    assert "Ana Souza" not in after_erasure.text
    assert _stored(engine) == before - 2 and engine.vault.subject_ref("alice") not in engine.vault.subjects()


def _stored(engine: PiiEngine) -> int:
    with sqlite3.connect(engine.vault.path) as db:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def _rows_seen_elsewhere(engine: PiiEngine) -> int:
    """What another process sees: a connection of its own, outside any transaction."""
    with sqlite3.connect(engine.vault.path) as other:
        return other.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_a_batch_is_one_transaction_committed_when_it_ends(fresh_settings: Settings) -> None:
    engine = PiiEngine.from_settings(fresh_settings)
    docs = [doc_id(f"batch-{n}") for n in range(3)]
    with engine.vault.batch():
        for n, doc in enumerate(docs):
            engine.mask_text(f"Name: Ana Souza{n}\nIBAN DE89 3704 0044 0532 0130 0{n}", doc=doc)
        assert _rows_seen_elsewhere(engine) == 0  # nothing committed yet
        assert engine.vault.known(f"doc:{docs[0]}")  # but this thread reads its own writes
    assert _rows_seen_elsewhere(engine) == 6
    revealed = engine.vault.reveal(docs[2], "<PERSON_1>", user="u", roles=READER)
    assert revealed.value == "Ana Souza2"


def test_a_failed_batch_leaves_nothing_behind(fresh_settings: Settings) -> None:
    engine = PiiEngine.from_settings(fresh_settings)
    with pytest.raises(RuntimeError), engine.vault.batch():
        engine.mask_text("Name: Ana Souza", doc=doc_id("rolled-back"))
        raise RuntimeError("the batch failed")
    assert _rows_seen_elsewhere(engine) == 0
    engine.mask_text("Name: Ana Souza", doc=doc_id("after"))  # the vault is usable again: no transaction left open
    assert _rows_seen_elsewhere(engine) == 1
