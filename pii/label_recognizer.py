"""The label recognizer: names, addresses and dates of birth found by the structure around them, not by NER.

Without NER Presidio finds no names or addresses at all (``../shared/notes/presidio-ocr.md``). In
structured documents a value follows a label ("Name:", "Bill to:", "Date of birth:") or sits in a column
under a labelled header, so the label and the value's shape are enough. Kept apart from pii/recognizers.py
because it is a parser of layout (labels, cells, blocks), not one more pattern with a checksum.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from pii.recognizers import result_of
from pii.tokens import PROTECTED_RE

__all__ = ["LabelRecognizer"]

_LABELS: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "name", "full name", "customer name", "client name", "account holder", "account name", "applicant",
        "bill to", "billed to", "invoice to", "ship to", "sold to", "customer", "client", "attn", "attention",
        "contact", "contact person", "first name", "last name", "surname", "family name", "given name",
        "given names", "cardholder", "card holder", "beneficiary", "payee", "signed", "signature",
        "holder", "recipient", "patient", "employee", "tenant",
    ),
    "ADDRESS": (
        "address", "street", "street address", "home address", "residential address", "billing address",
        "postal address", "shipping address", "mailing address", "residence", "domicile",
    ),
    "DATE_OF_BIRTH": ("date of birth", "birth date", "birthdate", "dob", "d.o.b.", "born", "born on"),
}  # fmt: skip
_HEADER_WORDS = {
    "email",
    "e-mail",
    "phone",
    "telephone",
    "mobile",
    "date",
    "amount",
    "total",
    "id",
    "number",
    "account",
    "iban",
    "country",
    "city",
    "status",
    "type",
    "description",
    "quantity",
    "price",
    "role",
    "title",
    "company",
}  # a label followed by one of these (no colon) is a table header row, not a value
_BLOCK_LABELS = {"bill to", "billed to", "invoice to", "ship to", "sold to"}  # name, then address lines

_LABEL_TO_ENTITY = {label: entity for entity, labels in _LABELS.items() for label in labels}
_LABEL_ALTERNATION = "|".join(sorted((re.escape(label) for label in _LABEL_TO_ENTITY), key=len, reverse=True))
# A label starts a line or a column (after a tab, "|" or two spaces) and ends with ':' (or a tab / 2 spaces).
_LABEL_RE = re.compile(
    rf"(?:^|(?<=\t)|(?<=\|)|(?<=  ))[ \t]*(?P<label>{_LABEL_ALTERNATION})[ \t]*(?::|(?=\t)|(?=  ))[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_CELL_END = re.compile(r"\t| {2,}|\||$", re.MULTILINE)
_CELL_SPLIT = re.compile(r"\t| {2,}|\|")
_NAME_RE = re.compile(r"^(?:[^\W\d_][\w'’.\-]*\.?)(?:[ ,]+[^\W\d_][\w'’.\-]*\.?){0,5}$")
_DATE_RE = re.compile(
    r"^(?:\d{1,4}[./\- ]\d{1,2}[./\- ]\d{1,4}"  # 12.03.1980, 1980-03-12
    r"|\d{1,2}\.? ?[^\W\d_]{3,9}\.?,? \d{2,4}"  # 12 March 1980
    r"|[^\W\d_]{3,9}\.? \d{1,2},? \d{2,4})$"  # March 12, 1980
)
_MAX_VALUE = 120


def _plausible(entity: str, value: str) -> bool:
    if not value or len(value) > _MAX_VALUE or PROTECTED_RE.search(value):
        return False
    if entity == "PERSON":
        return bool(_NAME_RE.match(value))
    if entity == "DATE_OF_BIRTH":
        return bool(_DATE_RE.match(value))
    return len(value) >= 4 and any(char.isalpha() for char in value)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past surrounding spaces and trailing punctuation."""
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t,;.:":
        end -= 1
    return start, end


# "Bo Li. Ana replied": a full stop after a word of 2+ letters that is not a title ends the name ("Jane Q. Public").
_SENTENCE_END = re.compile(r"(?<![^\W\d_])(?!(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr)\.)[^\W\d_]{2,}\.(?= )")


def _first_clause(text: str, start: int, end: int, entity: str) -> tuple[int, int]:
    """ "Name: Ana Souza, mail ana@x.org": a value that does not look like its type is cut at the first , ; or (."""
    sentence_end = _SENTENCE_END.search(text, start, end)
    if sentence_end and entity == "PERSON":
        start, end = _trimmed(text, start, sentence_end.end())
    if _plausible(entity, text[start:end]):
        return start, end
    cut = re.search(r"[,;(]", text[start:end])
    return _trimmed(text, start, start + cut.start()) if cut else (start, end)


def _lines(text: str, start: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line from offset ``start`` on."""
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield start, end
        start = end + 1


class LabelRecognizer(EntityRecognizer):
    """Names, addresses and dates of birth that follow a label or sit in a column under a labelled header.

    Only structure is used (label, then value up to the end of the line or the
    cell), so it works without NER and in any language whose labels are listed;
    the value must look like its type (a name has no digits, a date parses).
    """

    SCORE = 0.85

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=sorted(_LABELS),
            name="LabelRecognizer",
            supported_language=supported_language,
        )

    def load(self) -> None:
        """Nothing to load: the labels are compiled at import."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        wanted = set(entities) if entities else set(_LABELS)
        found = [*self._after_labels(text), *self._in_tables(text)]
        return [result_of(self, entity, start, end, self.SCORE) for entity, start, end in found if entity in wanted]

    def _after_labels(self, text: str) -> Iterator[tuple[str, int, int]]:
        for match in _LABEL_RE.finditer(text):
            label = match.group("label").lower()
            entity = _LABEL_TO_ENTITY[label]
            cell_end = _CELL_END.search(text, match.end())
            start, end = _trimmed(text, match.end(), cell_end.start() if cell_end else len(text))
            if start < end:
                start, end = _first_clause(text, start, end, entity)
                value = text[start:end].strip(" :").lower()
                if _plausible(entity, text[start:end]) and value not in _HEADER_WORDS and value not in _LABEL_TO_ENTITY:
                    yield entity, start, end
            elif label in _BLOCK_LABELS or entity == "ADDRESS":
                yield from self._block_below(text, match.end(), entity)

    def _block_below(self, text: str, offset: int, entity: str) -> Iterator[tuple[str, int, int]]:
        """A label alone on its line: "Bill to:" then name and address lines until a blank line."""
        lines = _lines(text, text.find("\n", offset) + 1) if "\n" in text[offset:] else iter(())
        for number, (line_start, line_end) in enumerate(lines):
            start, end = _trimmed(text, line_start, line_end)
            if start >= end or number >= 4:
                return
            line_entity = "PERSON" if entity == "PERSON" and number == 0 else "ADDRESS"
            if _LABEL_RE.match(text, line_start):
                return
            if _plausible(line_entity, text[start:end]):
                yield line_entity, start, end

    def _in_tables(self, text: str) -> Iterator[tuple[str, int, int]]:
        """A header row whose cells include labels, then rows with the same number of cells."""
        columns: dict[int, str] = {}
        width = 0
        for line_start, line_end in _lines(text, 0):
            line = text[line_start:line_end]
            cells = _cells(line)
            if len(cells) < 2:
                columns = {}
                continue
            header = {i: _LABEL_TO_ENTITY.get(cell.strip(" :").lower()) for i, (_, _, cell) in enumerate(cells)}
            if any(header.values()) and not any(_plausible("DATE_OF_BIRTH", c.strip()) for *_, c in cells):
                columns, width = {i: e for i, e in header.items() if e}, len(cells)
                continue
            if not columns or len(cells) != width:
                columns = {} if len(cells) != width else columns
                continue
            for index, entity in columns.items():
                cell_start, cell_end, _ = cells[index]
                start, end = _trimmed(text, line_start + cell_start, line_start + cell_end)
                if start < end and _plausible(entity, text[start:end]):
                    yield entity, start, end


def _cells(line: str) -> list[tuple[int, int, str]]:
    """Cells of a table row split on tabs, '|' or runs of 2+ spaces, with offsets inside the line."""
    cells, start = [], 0
    for separator in _CELL_SPLIT.finditer(line):
        if separator.start() > start:
            cells.append((start, separator.start(), line[start : separator.start()]))
        start = separator.end()
    if start < len(line):
        cells.append((start, len(line), line[start:]))
    return [cell for cell in cells if cell[2].strip()]
