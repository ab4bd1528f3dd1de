"""Reviewers' corrections as a labelled dataset: ``docval eval --corrections``.

Each correction a reviewer signed in the workbench is ledgered (values as
keyed hashes) and its new value kept in the PII vault as a truth label for
that document and field (``pii.Vault.store_label``): personal data held like
all other personal data, sealed under the document's subject and gone when
the subject is erased. Scored against the stored originals (waiting under
``work/awaiting/``, decided in ``archive/``) with the current extractors,
reviewers' work measures extraction: a field they had to correct is a miss
until the extractors read it as they did. Labels are partial, like
invoice2data's: only corrected fields are scored.
"""

from __future__ import annotations

from docval.settings import Settings
from extractors.evaluate import LabelledDocument

__all__ = ["CORRECTIONS", "corrections_dataset"]

CORRECTIONS = "corrections"  # the dataset name in reports and baseline file names


def corrections_dataset(settings: Settings, labels: dict[str, dict[str, str]]) -> tuple[list[LabelledDocument], int]:
    """The labelled documents (doc -> field -> corrected value) whose original is still kept; and how many
    labelled documents were left out because retention removed their original."""
    documents = []
    for doc, truth in sorted(labels.items()):
        if (original := settings.kept_original(doc)) is not None:
            documents.append(LabelledDocument(doc, original, dict(truth)))
    return documents, len(labels) - len(documents)
