"""The pseudonym vault: pseudonym -> original, encrypted per data subject, erasable by destroying one key.

Layout (SQLite, ``<data_dir>/pii/vault.sqlite``; the master key is
``<keys_dir>/pii-master.key``, 0600):

- ``subjects``: one row per data subject, keyed by the subject's keyed hash
  (HMAC, so the vault never lists who its subjects are), holding that
  subject's 256-bit data key wrapped (AES-GCM) by the master key.
- ``entries``: (doc, token) -> subject, AES-GCM ciphertext of the original
  under the subject's data key; the associated data binds doc and token, so
  a ciphertext copied to another row does not decrypt.

Erasure deletes the subject's wrapped key and its rows (crypto-shredding: a
backup that still holds the ciphertexts holds nothing readable once the key
row is gone everywhere the master key can reach). Nothing else changes, so
other subjects, the ledger and its proofs keep working.

SQLite rather than DuckDB because the vault is small, written by the worker
while the CLI reads it, and SQLite allows concurrent readers across processes.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict

from docval.events import PiiErasedPayload, PiiRevealedPayload
from docval.hashing import KeyedHasher
from docval.keyfile import read_or_create_secret
from pii.errors import PiiAccessDenied, PiiError, SubjectErased
from pii.tokens import TOKEN_RE, token_entity

__all__ = ["READER_ROLE", "Revelation", "Vault", "doc_subject"]

READER_ROLE = "pii_reader"
_NONCE = 12
_SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (ref TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    doc TEXT NOT NULL, token TEXT NOT NULL, subject TEXT NOT NULL, ciphertext BLOB NOT NULL,
    PRIMARY KEY (doc, token));
CREATE INDEX IF NOT EXISTS entries_subject ON entries (subject);
CREATE TABLE IF NOT EXISTS labels (
    doc TEXT NOT NULL, field TEXT NOT NULL, subject TEXT NOT NULL, ciphertext BLOB NOT NULL,
    PRIMARY KEY (doc, field));
"""


_Row = tuple[str, str, str, bytes]  # doc, token, subject ref, sealed original


def doc_subject(doc: str) -> str:
    """The subject used when a document names none: its pseudonyms are then erasable per document."""
    return f"doc:{doc}"


class Revelation(BaseModel):
    """A re-identified value and the ledger payload (kind ``pii.revealed``) that records who saw it."""

    model_config = ConfigDict(frozen=True)

    value: str
    event: PiiRevealedPayload


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _load_or_create_key(path: Path) -> bytes:
    key = read_or_create_secret(path, lambda: AESGCM.generate_key(bit_length=256))
    if len(key) != 32:
        raise PiiError(f"{path}: master key must be 32 bytes")
    return key


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)


class Vault:
    """Encrypted pseudonym store. ``subject`` arguments are raw subject ids; only their keyed hash is stored."""

    def __init__(self, path: Path, master_key_path: Path, hasher: KeyedHasher) -> None:
        self.path = path
        self._master_key_path = master_key_path
        self._hasher = hasher
        self._batch = threading.local()  # the open ``batch`` transaction of each thread (a connection is per thread)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            connection.executescript(_SCHEMA)  # commits on its own: not inside _db's transaction
        finally:
            connection.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Everything this thread reads and stores in the block as one transaction, committed when it ends.

        The pipeline masks a part of a batch (dozens of documents, each read and stored twice: fields and file
        name) in one: a commit costs an fsync, more than masking a document does. Other writers wait for the
        commit as for any write (the busy timeout); a failure rolls the whole block back. Nested blocks join
        the outermost one.
        """
        outer = getattr(self._batch, "db", None)
        with self._db() as db:
            self._batch.db = db
            try:
                yield
            finally:
                self._batch.db = outer

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """This thread's ``batch`` transaction, or one of its own."""
        db = getattr(self._batch, "db", None)
        if db is not None:
            yield db
            return
        with self._transaction() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def files(self) -> list[Path]:
        """The vault database and its journals: ciphertext only, skipped by the leak scan."""
        return [self.path, *self.path.parent.glob(self.path.name + "-*")]

    @property
    def _master(self) -> bytes:
        return _load_or_create_key(self._master_key_path)

    def subject_ref(self, subject: str) -> str:
        """The keyed hash that stands for ``subject`` in the vault, the ledger and reports."""
        return self._hasher(subject, purpose="pii-subject")

    def _data_key(self, db: sqlite3.Connection, ref: str, *, create: bool) -> bytes | None:
        row = db.execute("SELECT wrapped_key FROM subjects WHERE ref = ?", (ref,)).fetchone()
        if row is not None:
            try:
                return _open(self._master, row[0], b"dek\0" + ref.encode())
            except InvalidTag:
                raise PiiError(
                    f"the master key does not open the key of subject {ref[:12]} (wrong key file?)"
                ) from None
        if not create:
            return None
        key = AESGCM.generate_key(bit_length=256)
        wrapped = _seal(self._master, key, b"dek\0" + ref.encode())
        db.execute("INSERT INTO subjects VALUES (?, ?, ?)", (ref, wrapped, _now()))
        return key

    def store(self, doc: str, subject: str, mapping: dict[str, str]) -> None:
        """Record ``token -> original`` for ``doc`` under ``subject``'s data key (re-storing a token is a no-op)."""
        if not mapping:
            return
        ref = self.subject_ref(subject)
        with self._db() as db:
            key = self._data_key(db, ref, create=True)
            assert key is not None
            rows = [
                (doc, token, ref, _seal(key, value.encode(), f"{doc}\0{token}".encode()))
                for token, value in mapping.items()
            ]
            db.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?)", rows)

    def store_label(self, doc: str, field: str, value: str) -> None:
        """A reviewer-corrected value of ``doc`` (a truth label for ``docval eval --corrections``), sealed under
        the data key of the subject the document's pseudonyms belong to (else the document's own): erasing that
        subject erases the label with them. A later correction of the same field replaces it."""
        with self._db() as db:
            row = db.execute("SELECT subject FROM entries WHERE doc = ? LIMIT 1", (doc,)).fetchone()
            ref = row[0] if row else self.subject_ref(doc_subject(doc))
            key = self._data_key(db, ref, create=True)
            assert key is not None
            sealed = _seal(key, value.encode(), f"{doc}\0label\0{field}".encode())
            db.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)", (doc, field, ref, sealed))

    def labels(self) -> dict[str, dict[str, str]]:
        """doc -> field -> corrected value, for every label whose subject is not erased. Never print these."""
        with self._db() as db:
            rows = db.execute("SELECT doc, 'label' || char(0) || field, subject, ciphertext FROM labels").fetchall()
            values = self._decrypt_rows(db, rows)
        found: dict[str, dict[str, str]] = {}
        for (doc, token), value in sorted(values.items()):
            found.setdefault(doc, {})[token.removeprefix("label\0")] = value
        return found

    def _decrypt_rows(self, db: sqlite3.Connection, rows: list[_Row]) -> dict[tuple[str, str], str]:
        keys: dict[str, bytes | None] = {}
        values: dict[tuple[str, str], str] = {}
        for doc, token, ref, sealed in rows:
            if ref not in keys:
                keys[ref] = self._data_key(db, ref, create=False)
            key = keys[ref]
            if key is None:
                continue
            try:
                values[(doc, token)] = _open(key, sealed, f"{doc}\0{token}".encode()).decode()
            except InvalidTag:
                raise PiiError(f"vault entry {doc[:12]}/{token} fails authentication (tampered?)") from None
        return values

    def known(self, subject: str) -> dict[str, str]:
        """original -> pseudonym for every value already pseudonymised for ``subject``: keeps numbering stable."""
        ref = self.subject_ref(subject)
        with self._db() as db:
            rows = db.execute("SELECT doc, token, subject, ciphertext FROM entries WHERE subject = ?", (ref,))
            values = self._decrypt_rows(db, rows.fetchall())
        return {value: token for (_, token), value in sorted(values.items())}

    def originals(self) -> Iterator[tuple[str, str]]:
        """(entity type, original) of every recoverable value: what the leak scan looks for. Never print these."""
        with self._db() as db:
            rows = db.execute("SELECT doc, token, subject, ciphertext FROM entries").fetchall()
            values = self._decrypt_rows(db, rows)
        seen: set[str] = set()
        for (_, token), value in values.items():
            if value not in seen:
                seen.add(value)
                yield token_entity(token), value

    def subjects(self) -> list[str]:
        """Keyed hashes of the subjects whose data is still recoverable."""
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT ref FROM subjects ORDER BY ref")]

    def reveal(self, doc: str, token: str, *, user: str, roles: list[str] | set[str]) -> Revelation:
        """The original behind ``token`` in ``doc`` for a ``pii_reader``; the event must go to the ledger."""
        if READER_ROLE not in roles:
            raise PiiAccessDenied(f"user {user!r} lacks the {READER_ROLE!r} role")
        with self._db() as db:
            row = db.execute(
                "SELECT doc, token, subject, ciphertext FROM entries WHERE doc = ? AND token = ?", (doc, token)
            ).fetchone()
            values = self._decrypt_rows(db, [row]) if row else {}
        if row is None:
            raise PiiError(f"no pseudonym {token} for document {doc[:12]} in the vault (or its subject was erased)")
        if (doc, token) not in values:
            raise SubjectErased(f"{token} of document {doc[:12]} belongs to an erased data subject")
        event = PiiRevealedPayload(user=user, role=READER_ROLE, token=token, subject=row[2], revealed_at=_now())
        return Revelation(value=values[(doc, token)], event=event)

    def reveal_text(self, doc: str, text: str, *, user: str, roles: list[str] | set[str]) -> Revelation:
        """``text`` with every pseudonym of ``doc`` re-identified; one event naming how many were revealed."""
        tokens = sorted({match.group(0) for match in TOKEN_RE.finditer(text)}, key=len, reverse=True)
        revealed = {token: self.reveal(doc, token, user=user, roles=roles).value for token in tokens}
        for token, value in revealed.items():
            text = text.replace(token, value)
        event = PiiRevealedPayload(user=user, role=READER_ROLE, token=f"{len(revealed)} tokens", revealed_at=_now())
        return Revelation(value=text, event=event)

    def erase(self, subject: str) -> PiiErasedPayload:
        """Crypto-shred ``subject``: destroy its data key and ciphertexts. Idempotent."""
        return self.erase_ref(self.subject_ref(subject))

    def erase_ref(self, ref: str) -> PiiErasedPayload:
        """Erase by keyed hash, for an operator who only has the ledger's reference."""
        with self._db() as db:
            entries = db.execute("DELETE FROM entries WHERE subject = ?", (ref,)).rowcount
            db.execute("DELETE FROM labels WHERE subject = ?", (ref,))
            had_key = db.execute("DELETE FROM subjects WHERE ref = ?", (ref,)).rowcount > 0
        erased_at = _now()
        if had_key:
            self._vacuum()
        return PiiErasedPayload(subject=ref, entries=entries, key_destroyed=had_key, erased_at=erased_at)

    def _vacuum(self) -> None:
        """Rewrite the file so deleted key pages are not left behind in free pages."""
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("VACUUM")
        finally:
            connection.close()
