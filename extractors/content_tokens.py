"""Child side: a page's content stream tokenised in a few regular-expression steps, into pypdf's own operations.

pypdf reads a content stream a byte at a time in pure Python; on the shared ZUGFeRD PDFs that was 11.6 ms of a
document's 33 ms of text extraction (benchmarks/README.md, session 17). ``operations`` reads the common tokens
(numbers, plain names, literal and hex strings, arrays, operators, comments) with one regular expression per token
and builds the very objects pypdf builds, with pypdf's own constructors. Whatever it does not know for certain
(nested or escaped strings, dictionaries, ``true``/``null`` in arrays, inline images, bytes pypdf treats in its own
way) it either hands to pypdf's reader at that place or gives up on, returning ``None`` so the caller lets pypdf
parse the whole stream. Either way the result is pypdf's: ``tests/extractors/test_content_tokens.py`` compares the
two on every page of the shared corpora and on hypothesis-drawn streams.
"""

from __future__ import annotations

import binascii
import re
from io import BytesIO
from typing import Any

__all__ = ["operations"]

# pypdf's whitespace between tokens is these six bytes; \x0b separates only some tokens there, so it is left to pypdf.
_SPACE = rb"[\x00\t\n\x0c\r ]*"
# What ends a name or an operator in pypdf (NameObject.delimiter_pattern).
_END = rb"(?=[\s()<>\[\]{}/%]|\Z)"
_NUMBER = rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![+,\-.0-9])"  # pypdf reads [+,-.0-9]+ as one number
_NAME = rb"/[^\s()<>\[\]{}/%]{0,1000}" + _END
_ENTRY = _SPACE + rb"(" + _NAME + rb")" + _SPACE + rb"(" + _NAME + rb"|" + _NUMBER + rb")"  # /MCID 3, /Type /Foo
_OPERATOR = rb"[A-Za-z'\"][^\s()<>\[\]{}/%]{0,63}" + _END
_KINDS = (
    rb"(?P<operation>(?:%s%s)*(?P<verb>%s))" % (_NUMBER, _SPACE, _OPERATOR),  # most: numbers, then their operator
    rb"(?P<number>%s)" % _NUMBER,
    rb"(?P<name>%s)" % _NAME,
    rb"<<(?P<dictionary>(?:%s)*)%s>>(?!%sstream)" % (_ENTRY, _SPACE, _SPACE),
    rb"\((?P<string>[^()\\]*)\)",
    rb"<(?P<hex>[0-9A-Fa-f\x00\t\n\x0c\r ]*)>",
    rb"(?P<open>\[)",
    rb"(?P<close>\])",
    rb"(?P<comment>%[^\r\n]*[\r\n]?)",
    rb"(?P<pypdf>[(<])",  # an escaped or nested string, another dictionary: read by pypdf
    rb"(?P<end>\Z)",
)
_TOKEN = re.compile(_SPACE + rb"(?:" + b"|".join(_KINDS) + rb")")
_ENTRIES = re.compile(_ENTRY)
_WORD = re.compile(rb"[^\x00\t\n\x0c\r ]+")
_HEX_SPACE = re.compile(rb"[\x00\t\n\x0c\r ]")
# pypdf takes "1 0 R" in a content stream for an object reference and fails; such a stream is left to it. A digit,
# blanks and an R not starting a word is what every reference ends with (pypdf's IndirectPattern), and is found six
# times faster than the whole pattern.
_REFERENCE = re.compile(rb"\d\s+R[^a-zA-Z]")


class _Unsure(Exception):
    """A token this reader does not read exactly as pypdf does: pypdf parses the whole stream instead."""


def operations(content: Any) -> list[tuple[Any, bytes]] | None:
    """pypdf's ``operations`` of the ``ContentStream`` ``content``, or ``None`` where only pypdf's parse gives them."""
    data = content.get_data()
    if _REFERENCE.search(data):
        return None
    try:
        return _read(content, data)
    except Exception:  # _Unsure, or pypdf's reader failed on a token handed to it: its own parse raises the same
        return None


def _read(content: Any, data: bytes) -> list[tuple[Any, bytes]]:
    """The tokens of ``data`` in one loop (a call per token would cost what it saves), within pypdf's token budget
    (``StreamParsingBudget``) and array size limit; anything unsure raises ``_Unsure``."""
    from pypdf._configuration import get_configuration
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        create_string_object,
        read_object,
    )
    from pypdf.generic._image_inline import read_inline_image
    from pypdf.generic._utils import StreamParsingBudget

    def numbers(tokens: list[bytes]) -> list[Any]:
        """pypdf's number objects of ``tokens`` (its own constructors, as its reader calls them)."""
        if max(map(len, tokens)) > 16:
            raise _Unsure  # pypdf reads a long number in pieces, with a length limit of its own
        return [FloatObject(token) if b"." in token else NumberObject(token) for token in tokens]

    def name(token: bytes) -> Any:
        """pypdf's name object of ``token``: #-escapes resolved, UTF-8 (pypdf tries other charsets after it)."""
        return NameObject(NameObject.unnumber(token).decode("utf-8"))

    configuration = get_configuration()
    limit = configuration.stream_parsing_work_maximum_count
    max_elements = configuration.array_maximum_element_count
    max_entries = configuration.dictionary_maximum_element_count
    encoding = content.forced_encoding
    stream = BytesIO(data)  # for the tokens pypdf reads itself, at their place
    budget = StreamParsingBudget(remaining_budget=limit)  # theirs, kept in step around each
    spent = 0
    result: list[tuple[Any, bytes]] = []
    operands: list[Any] = []
    arrays: list[list[Any]] = []
    tokens = iter(_TOKEN.scanner(data).match, None)  # each token where the last ended, or None: no gaps
    while True:
        token = next(tokens, None)
        if token is None:
            raise _Unsure
        kind = token.lastgroup
        value: Any
        if kind == "number":
            (value,) = numbers([token["number"]])
        elif kind == "operation":
            operator = token["verb"]
            words = _WORD.findall(data, token.start("operation"), token.start("verb"))
            if arrays or (operator == b"BI" and (words or operands)):
                raise _Unsure  # true, false or null in an array; operands before an inline image
            if words:
                operands.extend(numbers(words))
                spent += len(words)
            if operator == b"BI":  # an inline image, read by pypdf from here on, as its own parse does
                spent += 2
                budget.remaining_budget = limit - spent
                stream.seek(token.end())
                result.append((read_inline_image(content_stream=content, stream=stream, parsing_budget=budget),
                               b"INLINE IMAGE"))  # fmt: skip
                spent = limit - budget.remaining_budget
                tokens = iter(_TOKEN.scanner(data, stream.tell()).match, None)
            else:
                spent += 1
                result.append((operands, operator))
                operands = []
            if spent > limit:
                raise _Unsure  # pypdf raises LimitReachedError on its own parse
            continue
        elif kind == "name":
            value = name(token["name"])
        elif kind == "dictionary":  # pypdf's DictionaryObject.read_from_stream, for names and numbers only
            entries = _ENTRIES.findall(token["dictionary"])
            keys = [name(key) for key, _ in entries]
            if len(set(keys)) < len(keys) or len(keys) > max_entries:
                raise _Unsure  # pypdf keeps the first of a key given twice, and warns
            spent += 2 * len(keys)
            value = DictionaryObject()
            value.update(zip(keys, [name(v) if v[:1] == b"/" else numbers([v])[0] for _, v in entries], strict=True))
        elif kind == "string":
            value = create_string_object(token["string"], encoding)
        elif kind == "hex":
            digits = _HEX_SPACE.sub(b"", token["hex"])
            value = create_string_object(binascii.unhexlify(digits + b"0" * (len(digits) % 2)), encoding)
        elif kind == "open":
            value = []
        elif kind == "close":
            if not arrays:
                raise _Unsure
            value = ArrayObject(arrays.pop())
            (arrays[-1] if arrays else operands).append(value)
            continue
        elif kind == "comment":
            if arrays:
                raise _Unsure
            continue
        elif kind == "end":
            if arrays:
                raise _Unsure  # pypdf keeps an unclosed array; rare enough to leave to it
            return result
        else:  # an escaped or nested string, any other dictionary: pypdf reads it
            budget.remaining_budget = limit - spent - 1
            stream.seek(token.start(kind))
            value = read_object(stream, None, encoding, parsing_budget=budget)
            spent = limit - budget.remaining_budget - 1
            tokens = iter(_TOKEN.scanner(data, stream.tell()).match, None)
        # one more operand, or one more element of the innermost array
        spent += 1
        if spent > limit or (arrays and len(arrays[-1]) >= max_elements):
            raise _Unsure
        if kind == "open":
            arrays.append(value)
        else:
            (arrays[-1] if arrays else operands).append(value)
