"""Page images of an original, rendered once with pypdfium2 and cached beside the other private data.

The images show the unmasked original, so the cache lives under the data
directory (folders 0700, files 0600) and is served only to roles allowed to
see originals; every view is ledgered by the route that serves it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pypdfium2 as pdfium

from workbench.errors import WorkbenchError

__all__ = ["page_png"]

SCALE = 1.5  # 108 dpi: readable beside the fields, ~150 KB a page
_render_lock = threading.Lock()  # pdfium is not thread-safe


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
