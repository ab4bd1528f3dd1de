"""Builders of hostile PDFs (raw bytes, so they can be as broken as an attacker likes).

Shared by tests/extractors and benchmarks/robustness.py, so both attack ingest with the same files.
"""

from __future__ import annotations

import io
import zlib

import pypdf
from pypdf.actions import JavaScript
from reportlab.pdfgen.canvas import Canvas


def raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """Assemble numbered objects (1-based, in order) into a PDF with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def decompression_bomb(expanded_bytes: int = 400 * 1024 * 1024) -> bytes:
    """One page whose content stream is a few hundred KB of deflate that inflates to ``expanded_bytes``."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(chunk) for _ in range(expanded_bytes // len(chunk))) + compressor.flush()
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            _stream(b"/Filter /FlateDecode", data),
        ]
    )


def many_pages(count: int = 10_000, *, declared: int | None = None) -> bytes:
    """``count`` empty pages; ``declared`` lets the page tree lie about its /Count."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count if declared is None else declared),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * count
    return raw_pdf(objects)


def deeply_nested(depth: int = 100_000) -> bytes:
    """A page whose resources hold an array nested ``depth`` levels deep (parsers that recurse overflow)."""
    nested = b"[" * depth + b"]" * depth
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /X " + nested + b" >> >>",
        ]
    )


def text_pdf(text: str) -> bytes:
    """A harmless one-page PDF with ``text`` in its text layer (distinct text gives distinct bytes)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def with_javascript_and_attachment(text: str = "Invoice number: INV-1 visible text") -> bytes:
    """A text page plus document JavaScript and an embedded executable; only the text may come out."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(text_pdf(text)))
    writer.add_open_action(JavaScript("app.alert('pwned'); this.exportDataObject({cName: 'payload.exe', nLaunch: 2});"))
    writer.add_attachment("payload.exe", b"MZ\x90\x00" + b"\x00" * 64)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
