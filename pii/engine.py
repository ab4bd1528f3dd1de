"""PiiEngine: the one object flows/ and the CLI use to mask text and fields and to reach the vault."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from docval.domain import DocKind, ExtractedField, MaskedText, MaskFunction
from docval.events import MaskedPayload
from docval.hashing import KeyedHasher
from docval.settings import Settings
from pii.analysis import Analyzer, Span, build_analyzer, resolve_overlaps, with_repeats
from pii.config import PiiConfig, load_config
from pii.errors import PiiError
from pii.filenames import name_spans, span_values
from pii.parties import contact_tail
from pii.pseudonyms import Masked, apply_operators
from pii.scan import LeakHit, ValueIndex, scan_paths
from pii.vault import Vault, doc_subject

__all__ = ["MaskedFields", "PiiEngine"]


_NAME_LIKE = frozenset({"PERSON", "LOCATION", "ADDRESS"})


class MaskedFields(BaseModel):
    """Fields with personal values replaced, what was masked, and who it concerned (keyed hashes only)."""

    model_config = ConfigDict(frozen=True)

    fields: dict[str, ExtractedField]
    entities: dict[str, int]
    subjects: list[str]

    def event(self) -> MaskedPayload:
        """The ``doc.masked`` ledger payload."""
        return MaskedPayload(entities=self.entities, subjects=self.subjects)


def _merge_counts(total: dict[str, int], counts: Mapping[str, int]) -> None:
    for entity, count in counts.items():
        total[entity] = total.get(entity, 0) + count


class PiiEngine:
    """Detection (offline Presidio), masking (operators per type) and the vault, built from ``pii.yaml``."""

    def __init__(
        self, config: PiiConfig, hasher: KeyedHasher, vault: Vault | None = None, keys_dir: Path | None = None
    ) -> None:
        self.config = config
        self._keys_dir = keys_dir
        self._hasher = hasher
        self._vault = vault
        self.analyzer = Analyzer(config, build_analyzer(config))

    @classmethod
    def from_settings(cls, settings: Settings, config: PiiConfig | None = None) -> PiiEngine:
        """The installation's engine: its ``pii.yaml`` (or the packaged default), HMAC key and vault."""
        hasher = KeyedHasher.from_file(settings.keys_dir / "hmac.key")
        vault = Vault(settings.data_dir / "pii" / "vault.sqlite", settings.keys_dir / "pii-master.key", hasher)
        return cls(config or load_config(settings), hasher, vault, settings.keys_dir)

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise PiiError("this PiiEngine has no vault (build it with PiiEngine.from_settings)")
        return self._vault

    def entities_for(self, kind: DocKind | None) -> list[str]:
        return self.config.entities.get(kind or DocKind.OTHER, self.config.all_entities())

    def _field_entities(self, kind: DocKind) -> list[str]:
        """Pattern types only: a short value out of context is no ground for NER ("Acme Widgets" is no person).

        Names and addresses in other fields are still caught when the data
        subject's vault entries or this document's personal fields hold them.
        """
        return [entity for entity in self.entities_for(kind) if entity not in _NAME_LIKE]

    def _clear_field_spans(self, value: str, kind: DocKind) -> list[Span]:
        """Pattern types anywhere in a field the policy leaves in clear, and persons after its company part.

        A supplier's name is a company's, but a contact person glued onto it
        ("Acme GmbH z. Hd. Hans Müller") is personal data; only the text after
        the legal form or contact marker (``parties.contact_tail``) is shown to
        NER, where a company name cannot be mistaken for a person.
        """
        spans = self.analyzer.analyze(value, self._field_entities(kind))
        tail = contact_tail(value)
        if tail is None or "PERSON" not in self.entities_for(kind) or not re.search(r"[^\W\d_]{2}", value[tail:]):
            return spans
        # A person is written with given and family name; one word after the legal form is a branch ("Kunden AG Mitte").
        people = [
            p for p in self.analyzer.analyze(value[tail:], ["PERSON"]) if len(value[tail:][p.start : p.end].split()) > 1
        ]
        return resolve_overlaps([*spans, *(Span(p.entity, p.start + tail, p.end + tail, p.score) for p in people)])

    def spans(self, text: str, kind: DocKind | None = None) -> list[Span]:
        return self.analyzer.analyze(text, self.entities_for(kind))

    def _keyed_hash(self, value: str) -> str:
        return self._hasher(value, purpose="pii-value")

    def _replace(self, text: str, spans: list[Span], known: Mapping[str, str]) -> Masked:
        return apply_operators(text, spans, self.config, known=known, keyed_hash=self._keyed_hash)

    def mask_text(
        self,
        text: str,
        *,
        kind: DocKind | None = None,
        doc: str | None = None,
        subject: str | None = None,
        store: bool = True,
    ) -> MaskedText:
        """``text`` with personal data replaced.

        With ``doc`` (or ``subject``) the pseudonyms are the data subject's
        (``subject``, else the document itself) and new ones are stored in the
        vault; without, they live only in the returned ``MaskedText.originals``.
        ``store=False`` is for a view (the workbench's masked page text): known
        pseudonyms are reused, new ones are not kept, so looking at a document
        never writes personal data back, not even of a subject erased since.
        """
        masked = self._mask(text, kind, doc, subject, store=store)
        return MaskedText(text=masked.text, originals=masked.originals)

    def _mask(
        self, text: str, kind: DocKind | None, doc: str | None, subject: str | None, *, store: bool = True
    ) -> Masked:
        return self._pseudonymise(
            doc, subject, store, lambda known: (text, with_repeats(text, self.spans(text, kind), known))
        )

    def _pseudonymise(
        self,
        doc: str | None,
        subject: str | None,
        store: bool,
        read: Callable[[Mapping[str, str]], tuple[str, list[Span]]],
    ) -> Masked:
        """The one masking path: the subject's known pseudonyms, ``read`` (text and spans, given those), the
        operators, and new originals kept in the vault when there is a subject and ``store``."""
        owner = subject or (doc_subject(doc) if doc else None)
        known = self.vault.known(owner) if owner else {}
        text, spans = read(known)
        masked = self._replace(text, spans, known)
        if owner and store:
            self.vault.store(doc or owner, owner, masked.originals)
        return masked

    def mask_name(self, name: str, *, doc: str | None = None) -> MaskedText:
        """A file name with only its personal parts pseudonymised, its other words kept (``pii.filenames``).

        With ``doc`` the pseudonyms are the document's subject's, so the person a KYC form is about has the
        same token in its name as in its fields; new originals go to the vault as ``mask_text`` keeps them.
        """

        def read(known: Mapping[str, str]) -> tuple[str, list[Span]]:
            spans = name_spans(self.analyzer.analyze, name, self.entities_for(None), _NAME_LIKE, known)
            return span_values(name, spans, _NAME_LIKE), spans

        masked = self._pseudonymise(doc, None, True, read)
        return MaskedText(text=masked.text, originals=masked.originals)

    def mask_function(self, kind: DocKind | None = None) -> MaskFunction:
        """What extractors' remote tier calls: text -> masked text plus the in-memory re-identification map."""

        def mask(text: str) -> MaskedText:
            return self.mask_text(text, kind=kind)

        return mask

    def mask_fields(
        self, fields: Mapping[str, ExtractedField], *, kind: DocKind, doc: str, subject: str | None = None
    ) -> MaskedFields:
        """Pseudonymize field values: whole values of the personal fields ``pii.yaml`` names, detected spans elsewhere.

        Strings only; numbers, dates as ISO strings of non-personal fields and
        structured values pass through. Originals go to the vault under
        ``subject`` (else the document), so the outbox can hold the result.
        """
        owner = subject or doc_subject(doc)
        known = self.vault.known(owner)
        personal = self.config.fields.get(kind, {})
        out: dict[str, ExtractedField] = {}
        counts: dict[str, int] = {}
        used: dict[str, str] = {}
        # personal fields first: a field left in clear that repeats one of them (a buyer's name read as the seller's
        # too) then finds it among the values already masked, and is masked the same way
        for name in sorted(fields, key=lambda name: name not in personal):
            field = fields[name]
            if not isinstance(field.value, str) or not field.value.strip():
                out[name] = field
                continue
            value = field.value
            known_now = {**known, **{original: token for token, original in used.items()}}
            if name in personal:
                spans = [Span(personal[name], 0, len(value), 1.0)]
            else:
                spans = with_repeats(value, self._clear_field_spans(value, kind), known_now)
            masked = self._replace(value, spans, known_now)
            used.update(masked.originals)
            _merge_counts(counts, masked.counts)
            out[name] = field.model_copy(update={"value": masked.text})
        self.vault.store(doc, owner, used)
        subjects = [self.vault.subject_ref(owner)] if counts else []
        return MaskedFields(fields={name: out[name] for name in fields}, entities=counts, subjects=subjects)

    def remembering(self) -> AbstractContextManager[None]:
        """Analyses made inside the block are answered from memory when made again (``Analyzer.remembering``)."""
        return self.analyzer.remembering()

    def analyse_ahead(self, fields: Mapping[str, ExtractedField], kind: DocKind, name: str) -> None:
        """Make now the analyses ``mask_fields`` and ``mask_name`` will make for a document: its values left in clear
        and its file name (its data subject's known values aside). Inside ``remembering`` those calls then find
        them done; outside, nothing would keep them, so nothing is analysed. Nothing is masked or stored here."""
        if not self.analyzer.remembers:
            return
        personal = self.config.fields.get(kind, {})
        for field_name, field in fields.items():
            if field_name not in personal and isinstance(field.value, str) and field.value.strip():
                self._clear_field_spans(field.value, kind)
        name_spans(self.analyzer.analyze, name, self.entities_for(None), _NAME_LIKE, {})

    @cached_property
    def _pattern_analyzer(self) -> Analyzer:
        """Patterns only: the scan looks for shapes (e-mail, IBAN, card), labels and NER would flag masked text."""
        return Analyzer(self.config, build_analyzer(self.config, labels=False, ner=False))

    def scan(self, paths: list[Path]) -> list[LeakHit]:
        """Leak scan: the vault's originals and the ``scan_entities`` patterns in ``paths`` (vault and keys skipped)."""
        patterns = self._pattern_analyzer
        values = ValueIndex(self.vault.originals()) if self._vault is not None else None
        keys = sorted(self._keys_dir.glob("*")) if self._keys_dir is not None else []  # listed now: made lazily
        skip = [*(self._vault.files() if self._vault is not None else []), *keys]
        return scan_paths(paths, values=values, analyzer=patterns, entities=self.config.scan_entities, skip=skip)
