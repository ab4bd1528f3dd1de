"""The fast content-stream reader gives pypdf's own operations, or gives up; never something else.

Ingest's plain text and layout view are pypdf's readings of these operations, and the rules were tuned on them, so
an object of another type or value (a ``NumberObject`` for a ``FloatObject``, a name with its ``#20`` left in, an
array closed one token early) would change readings silently. Each case compares with a fresh pypdf parse.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf.generic import ContentStream, DecodedStreamObject, StreamObject

from extractors.content_tokens import operations
from extractors.pypdf_pass import share_contents

CORPORA = ("zugferd", "einvoice-train", "forms", "invoices-invoice2data", "pdf-varied", "pdf-malformed")


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, all the way down (``1 == 1.0`` would not do: pypdf's text code tells them apart
    by type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return bool(a == b)


def _content(data: bytes) -> ContentStream:
    """``data`` as a page's content stream, as ingest makes one (``pypdf_pass.share_contents``)."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    return ContentStream(stream, None, "bytes")


def _pypdf_operations(data: bytes) -> Any:
    try:
        return _content(data).operations
    except Exception as exc:
        return exc


def _fast_operations(data: bytes) -> Any:
    return operations(_content(data))


def _check(data: bytes) -> bool:
    """``data`` read fast is pypdf's reading (True), or left to pypdf (False)."""
    fast = _fast_operations(data)
    if fast is None:
        return False
    expected = _pypdf_operations(data)
    assert not isinstance(expected, Exception), f"pypdf fails on {data!r} ({expected!r}); the fast reader did not"
    assert _same(fast, expected), data
    return True


def test_every_page_of_the_shared_corpora_reads_as_pypdf_reads_it(shared_data: Path) -> None:
    logging.disable(logging.WARNING)
    try:
        read = {name: [0, 0] for name in CORPORA}
        for name in CORPORA:
            for path in sorted((shared_data / name).rglob("*.pdf")):
                try:
                    pages = list(pypdf.PdfReader(path, strict=False).pages)
                except Exception:
                    continue  # the malformed corpus: files pypdf cannot open at all
                for page in pages:
                    try:
                        contents = page["/Contents"].get_object()
                        data = ContentStream(contents, page.pdf, "bytes").get_data()
                    except Exception:
                        continue
                    read[name][0] += _check(data)
                    read[name][1] += 1
    finally:
        logging.disable(logging.NOTSET)
    fast, pages = read["zugferd"]
    assert pages > 80 and fast == pages  # the reader is used, not merely safe: every real e-invoice page
    assert sum(fast for fast, _ in read.values()) / sum(pages for _, pages in read.values()) > 0.95


@pytest.mark.parametrize(
    "data",
    [
        b"BT /F1 12 Tf 72 712 Td (Invoice 42) Tj ET",
        b"[(Rech)-20(nung)] TJ [] TJ [[1 2] /A] Tj",
        b"/Table#20Contents <</MCID 3>> BDC EMC /P <</MCID 0 /Lang /de>>BDC",
        b"<0041 00 42> Tj <414> Tj <> Tj",
        b"(a(nested)b) Tj (esc\\)aped\\053\\\n) Tj",
        b"1 0 0 1 .5 -2. cm +3 -.25 Td % comment\n0 g\n0g",
        b"q BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI Q",
        b"<</S /Span /ActualText <FEFF0041>>> BDC",
    ],
)
def test_common_tokens_are_read_fast_and_as_pypdf_reads_them(data: bytes) -> None:
    assert _check(data)


@pytest.mark.parametrize(
    "data",
    [
        b"1 0 R Tj",  # pypdf takes it for an object reference and fails
        b"[true null] TJ",  # booleans and null exist only inside arrays and dictionaries
        b"[(open array) Tj",
        b"12345678901234567890123 Tw",  # longer than pypdf reads a number in one piece
        b"<</MCID 1 /MCID 2>> BDC",  # pypdf keeps the first and warns
        b"1.2.3 Tw --4 Tc",
        b"(a) Tj\x0b(b) Tj",  # \x0b separates tokens in some of pypdf's readers and not in others
        b"/caf\xe9 Tf",  # not UTF-8: pypdf tries other charsets
    ],
)
def test_what_pypdf_reads_its_own_way_is_left_to_it(data: bytes) -> None:
    assert _fast_operations(data) is None


_TOKENS = st.sampled_from(
    [
        b"0", b"-1", b"2.5", b".5", b"5.", b"+3", b"1.2.3", b"--1", b"007", b"1,5", b"123456789012345678",
        b"/F1", b"/A#20B", b"/#zz", b"/a\x00b", b"/", b"/caf\xc3\xa9", b"/caf\xe9",
        b"(a)", b"()", b"(a(b)c)", b"(a\\)b)", b"(\\053\\n)", b"(\\q)", b"(\x00\xff)", b"(unclosed",
        b"<0A1>", b"<0a 1b>", b"<zz>", b"<>", b"<</MCID 3>>", b"<</A /B /A 1>>", b"<</L 2>>stream\n", b"<</A [1]>>",
        b"[", b"]", b"<<", b">>", b"{", b"}",
        b"Tj", b"TJ", b"BT", b"ET", b"'", b'"', b"true", b"false", b"null", b"R", b"BI", b"ID", b"EI", b"g" * 70,
        b"%c\n", b"%", b"\x0b", b"\\", b")",
    ]
)  # fmt: skip
_SPACES = st.sampled_from([b" ", b"", b"\n", b"\r\n", b"\x00", b"\t", b"\x0c", b"  "])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(_TOKENS, _SPACES), max_size=14))
def test_any_stream_reads_as_pypdf_reads_it_or_is_left_to_pypdf(parts: list[tuple[bytes, bytes]]) -> None:
    logging.disable(logging.WARNING)
    try:
        _check(b"".join(token + space for token, space in parts))
    finally:
        logging.disable(logging.NOTSET)


def test_ingest_hands_pypdf_the_operations_already_read(shared_data: Path) -> None:
    """``share_contents`` leaves the page's content read, so neither reading tokenises it again."""
    path = next((shared_data / "zugferd" / "pdfs").rglob("zugferd_2p0_EN16931_Einfach.pdf"))
    page = pypdf.PdfReader(path).pages[0]
    expected = ContentStream(page["/Contents"].get_object(), page.pdf, "bytes").operations
    share_contents(page)
    contents = page["/Contents"]
    assert isinstance(contents, ContentStream) and isinstance(contents, StreamObject)
    assert contents._data == b""  # pypdf clears its bytes once they are parsed: nothing left for it to tokenise
    assert _same(contents.operations, expected)
