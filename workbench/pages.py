"""What the workbench reads from an original with pypdfium2: page images, where values are printed, page text.

The images show the unmasked original, so the cache lives under the data
directory (folders 0700, files 0600) and is served only to roles allowed to
see originals; every view is ledgered by the route that serves it. Where a
value is printed (``value_boxes``) is found with pdfium's text search on the
text layer and given as fractions of the page, so the page draws a rectangle
over its image. ``page_texts`` is the raw text layer: callers mask it before
anybody sees it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from workbench.errors import WorkbenchError

__all__ = ["Box", "page_png", "page_texts", "value_boxes"]

SCALE = 1.5  # 108 dpi: readable beside the fields, ~150 KB a page
_render_lock = threading.Lock()  # pdfium is not thread-safe
PAD = 2.0  # points around a marked value, so the rectangle does not cut its glyphs


@dataclass(frozen=True)
class Box:
    """Where a value is printed: its 1-based page and a rectangle in per cent of the page (top-left origin)."""

    page: int
    left: float
    top: float
    width: float
    height: float

    def css(self) -> str:
        """``left,top,width,height`` in per cent, what the page's script puts on the mark."""
        return ",".join(f"{value:.2f}" for value in (self.left, self.top, self.width, self.height))


def page_png(pdf: Path, cache_dir: Path, number: int) -> bytes:
    """PNG bytes of 1-based page ``number`` of ``pdf``, from the cache when it was rendered before."""
    cached = cache_dir / f"{pdf.stem}-{number}.png"
    if cached.exists():
        return cached.read_bytes()
    with _render_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            if not 1 <= number <= len(document):
                raise WorkbenchError(f"the document has {len(document)} pages, not {number}")
            image = document[number - 1].render(scale=SCALE).to_pil()
        finally:
            document.close()
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = cached.with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        image.save(handle, format="PNG", optimize=False)
    tmp.replace(cached)
    return cached.read_bytes()


def value_boxes(pdf: Path, wanted: dict[str, tuple[str, int | None]]) -> dict[str, Box]:
    """Where each value (name -> (text, page it was read on)) is printed: its first match, on its page first.

    Values not in the text layer (masked tokens, a date printed in another format, a scanned page) are left
    out; the page then marks the whole page the value was read on.
    """
    found: dict[str, Box] = {}
    with _render_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            texts = [page.get_textpage() for page in document]
            sizes = [page.get_size() for page in document]
            for name, (text, page) in wanted.items():
                order = sorted(range(len(texts)), key=lambda index: index + 1 != page)  # its own page first
                for index in order:
                    box = _match(texts[index], text, sizes[index], index + 1)
                    if box is not None:
                        found[name] = box
                        break
        finally:
            document.close()
    return found


def _match(textpage: pdfium.PdfTextPage, text: str, size: tuple[float, float], page: int) -> Box | None:
    """The union of the character boxes of the first match of ``text`` on ``page``; None if it is not there."""
    hit = textpage.search(text, match_case=False).get_next()
    if hit is None:
        return None
    start, count = hit
    boxes = [textpage.get_charbox(index) for index in range(start, start + count)]
    left, right = min(b[0] for b in boxes) - PAD, max(b[2] for b in boxes) + PAD
    bottom, top = min(b[1] for b in boxes) - PAD, max(b[3] for b in boxes) + PAD
    x, y = 100 / size[0], 100 / size[1]  # points to per cent; PDF y grows upwards, the page's downwards
    return Box(page, left * x, (size[1] - top) * y, (right - left) * x, (top - bottom) * y)


def page_texts(pdf: Path) -> list[str]:
    """The text layer of each page, unmasked: only ever shown after the PII masker ran over it."""
    with _render_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            return [page.get_textpage().get_text_range() for page in document]
        finally:
            document.close()
