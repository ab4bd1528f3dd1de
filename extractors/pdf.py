"""Ingest: PDF bytes to per-page text (text layer or OCR) and any embedded e-invoice XML.

Every way a file can be unusable ends in one ``IngestError`` with a stable
reason code, so flows/ can quarantine it with a reason instead of crashing.
Parsing happens in a killable, memory-limited child process (``sandbox``):
a decompression bomb, a 10,000-page file or a parser bug costs one child, not
the worker. Error details name limits, exception types and page numbers,
never document text, because they reach logs, the ledger and Prefect.

Nothing inside the PDF is executed or written out: JavaScript is ignored,
embedded files are read only when they are a known e-invoice XML attachment,
and only into memory.
"""

from __future__ import annotations

import math
import shutil
import signal
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from docval.errors import DocvalError
from docval.settings import ExtractSettings
from extractors.glyphs import glyph_text, lacks_spaces, valid_unicode
from extractors.ocr import Words, read_image
from extractors.pypdf_pass import layout_text, share_contents
from extractors.sandbox import Sandbox, SandboxCrashed, SandboxMemory, SandboxTimeout, sandbox_for

__all__ = ["EINVOICE_ATTACHMENTS", "IngestError", "PageText", "PdfDocument", "load_pdf", "read_pdf", "reading_sandbox"]

# Names Factur-X, ZUGFeRD 1/2 and XRechnung-in-PDF use for the invoice XML attachment.
EINVOICE_ATTACHMENTS = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")
_HEADER_WINDOW = 1024  # PDF readers accept junk before %PDF- within the first 1 KiB
_MAX_OCR_PIXELS = 40_000_000  # caps the raster of absurd page sizes (an A4 page at 300 dpi is 8.7 M)
T = TypeVar("T")
# A reading child imports NumPy and loads the model (~300 MB of address space). Under a much smaller limit those
# imports do not fail cleanly - OpenBLAS spins until the parse deadline kills the child - so below this limit
# documents are parsed in plain children only and read by the caller.
_READING_CHILD_MEMORY = 768 * 1024**2


class IngestError(DocvalError):
    """A file docval cannot read. ``code`` is stable (quarantine reason); ``detail`` never quotes content."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


class PageText(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int  # 1-based
    text: str
    source: Literal["text", "ocr"]
    words: Words = ()  # an OCR page's words: span in ``text`` and tesseract's confidence (``extractors.ocr``)


class PdfDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    pages: list[PageText]
    einvoice_xml: bytes | None = None
    einvoice_name: str | None = None
    # pypdf's layout mode of the same pages, read in the same sandbox call (``layout_pages``), with the plain texts
    # it belongs to.
    _layout: tuple[tuple[str, ...], tuple[str, ...]] | None = PrivateAttr(default=None)

    def layout_pages(self) -> list[PageText] | None:
        """The pages in pypdf's layout mode (columns kept apart by runs of spaces, table rows on one line), or
        ``None`` when unavailable: a document not loaded from a file, pages replaced since (a copy with other
        text must not be read with the original's layout), or a file whose layout could not be read.

        The rules tier asks for it only when the plain reading order left fields missing or weak (78 % of the
        shared real PDFs), yet ``load_pdf`` reads it up front from the same parsed file: a second sandbox call
        re-opened and re-parsed the file, one document at a time, while ingest runs two documents at once (two
        sandbox children, both cores; benchmarks/README.md, stage_bench.py). An OCR page's layout view is its
        words in rows by position (``ocr.rows``); its words' spans index the plain reading, so the view has none."""
        if self._layout is None:
            return None
        texts, layout = self._layout
        if texts != tuple(page.text for page in self.pages):
            return None
        return [
            page if index >= len(layout) else page.model_copy(update={"text": layout[index], "words": ()})
            for index, page in enumerate(self.pages)
        ]

    @property
    def text(self) -> str:
        """All pages, separated by form feeds (the conventional page break in extracted text)."""
        return "\f".join(page.text for page in self.pages)


def load_pdf(path: Path, limits: ExtractSettings) -> PdfDocument:
    """Read ``path`` under ``limits``; raises ``IngestError`` for anything that is not a usable PDF."""
    return read_pdf(path, limits)[0]


def read_pdf(
    path: Path, limits: ExtractSettings, reader: Callable[[PdfDocument], T] | None = None
) -> tuple[PdfDocument, T | None]:
    """``load_pdf``, and ``reader(document)`` computed in the same sandbox child right after the parse.

    The worker process is one process while parsing runs in two children: work done in the children runs on both
    cores (the pipeline's extraction: benchmarks/README.md, stage_bench.py). ``reader`` must pickle small (it is
    sent with every call) and is never run on pages that need OCR (those are read afterwards, by the caller); its
    result is ``None`` then, or when it raised: the caller reads the document itself and meets the error in its
    own place. A child that holds a reader's imports has less room under the memory limit, so a file that took
    such a child over the limit, or killed it, is parsed once more in a plain child, whose verdict stands; under
    a limit too small for those imports (``_READING_CHILD_MEMORY``) ``reader`` is not used at all."""
    _precheck(path, limits)
    sandbox = sandbox_for(limits.max_memory_bytes)
    timeout = limits.parse_timeout_seconds
    readers = reading_sandbox(limits, reader) if reader is not None else None
    parsed, read = _read_in_child(readers, path, limits, reader) if readers else (None, None)  # type: ignore[arg-type]
    texts, layout, attachment = parsed or _sandboxed(sandbox.run, _extract_text, str(path), limits, timeout=timeout)
    ocr: dict[int, Words] = {}
    blank = _needs_ocr(texts, limits)
    if blank:
        if len(blank) > limits.max_ocr_pages:
            raise IngestError("TOO_MANY_PAGES", f"{len(blank)} pages need OCR, limit {limits.max_ocr_pages}")
        if shutil.which("tesseract") is None:
            raise IngestError("OCR_UNAVAILABLE", "tesseract not installed (scripts/system-deps.sh)")
        for index in blank:
            texts[index], ocr[index], rows = _sandboxed(
                sandbox.run, _ocr_page, str(path), index, limits, timeout=limits.ocr_page_timeout_seconds + 5
            )
            if layout is not None and index < len(layout):
                layout[index] = rows  # the scan's layout view: its words in rows by position
    return _document(texts, layout, attachment, ocr), read


def reading_sandbox(limits: ExtractSettings, reader: Callable[[PdfDocument], T]) -> Sandbox | None:
    """The pool of children that parse and then run ``reader`` (they import its module as they start), or ``None``
    under a memory limit too small for those imports (``_READING_CHILD_MEMORY``)."""
    if limits.max_memory_bytes < _READING_CHILD_MEMORY:
        return None
    return sandbox_for(limits.max_memory_bytes, "read", preload=type(reader).__module__)


def _read_in_child(
    sandbox: Sandbox, path: Path, limits: ExtractSettings, reader: Callable[[PdfDocument], T]
) -> tuple[Any, T | None]:
    """The parse and ``reader``'s result from a child of the reading pool, or ``(None, None)`` when that child ran
    out of memory or died: it holds the reader's imports (NumPy and the model: ~300 MB of address space), so the
    caller parses again in a plain child, whose verdict then stands. A timeout is final (no second wait)."""
    try:
        *parsed, read = sandbox.run(_parse_and_read, str(path), limits, reader, timeout=limits.parse_timeout_seconds)
    except (SandboxMemory, SandboxCrashed):
        return None, None
    except SandboxTimeout:
        raise _timed_out(limits.parse_timeout_seconds) from None
    return parsed, read


def _needs_ocr(texts: list[str], limits: ExtractSettings) -> list[int]:
    """Indexes of the pages OCR reads: too little text layer, when OCR is on."""
    if not limits.ocr_enabled:
        return []
    return [index for index, text in enumerate(texts) if len(text.strip()) < limits.min_text_chars]


def _document(
    texts: list[str],
    layout: list[str] | None,
    attachment: tuple[str, bytes] | None,
    ocr: dict[int, Words],
) -> PdfDocument:
    """The document of ``texts``; pages whose index is in ``ocr`` were read by OCR, with those words."""
    pages = [
        PageText(number=i + 1, text=text, source="ocr" if i in ocr else "text", words=ocr.get(i, ()))
        for i, text in enumerate(texts)
    ]
    name, xml = attachment if attachment else (None, None)
    document = PdfDocument(pages=pages, einvoice_xml=xml, einvoice_name=name)
    if layout is not None:
        document._layout = (tuple(page.text for page in pages), tuple(layout))
    return document


def _precheck(path: Path, limits: ExtractSettings) -> None:
    """Cheap checks in the parent: never hand a FIFO, an empty or an oversized file to a parser."""
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError("UNREADABLE", type(exc).__name__) from None
    if not stat.S_ISREG(info.st_mode):
        raise IngestError("NOT_PDF", "not a regular file")
    if info.st_size == 0:
        raise IngestError("EMPTY", "zero bytes")
    if info.st_size > limits.max_file_bytes:
        raise IngestError("TOO_LARGE", f"{info.st_size} bytes, limit {limits.max_file_bytes}")
    with path.open("rb") as handle:
        if b"%PDF-" not in handle.read(_HEADER_WINDOW):
            raise IngestError("NOT_PDF", "no %PDF- header")


def _sandboxed(run: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """``run(*args)`` with the sandbox's failure modes turned into reason codes."""
    try:
        return run(*args, timeout=timeout)
    except SandboxTimeout:
        raise _timed_out(timeout) from None
    except SandboxMemory:
        raise IngestError("MEMORY_LIMIT", "parser exceeded its memory limit") from None
    except SandboxCrashed as exc:
        raise IngestError("MALFORMED", f"parser failed ({exc})") from None


def _timed_out(timeout: float) -> IngestError:
    return IngestError("TIMEOUT", f"no result within {timeout:g} s")


# --- code below runs in the sandbox child -------------------------------------------------------------


class _PageTimeout(BaseException):
    """A page's deadline passed. Not an ``Exception``: the alarm lands anywhere in the page's reading, and a
    reader's ``except Exception`` fallback (pypdf's, or ``content_tokens`` handing a stream back to pypdf) would
    swallow it and read on past the limit, as ``KeyboardInterrupt`` is not swallowed."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python parsing of one page after ``seconds`` (the parent's kill is the backstop)."""

    def expire(signum: int, frame: object) -> None:
        raise _PageTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _extract_text(path: str, limits: ExtractSettings) -> tuple[list[str], list[str] | None, tuple[str, bytes] | None]:
    """Child side: text per page, the layout view of the pages (``None`` when it cannot be read) and the e-invoice
    attachment, or an IngestError with a reason code."""
    import pypdf
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            # An empty user password opens in every viewer (owner-locked files); anything else needs a secret.
            raise IngestError("ENCRYPTED", "password required")
        declared = _declared_page_count(reader)
        if declared > limits.max_pages:
            raise IngestError("TOO_MANY_PAGES", f"{declared} pages declared, limit {limits.max_pages}")
        count = len(reader.pages)
        if count == 0:
            raise IngestError("EMPTY", "no pages")
        if count > limits.max_pages:
            raise IngestError("TOO_MANY_PAGES", f"{count} pages, limit {limits.max_pages}")
        texts = [_page_text(page, number, limits) for number, page in enumerate(reader.pages, start=1)]
        texts = [glyph_text(path, index, text) if lacks_spaces(text) else text for index, text in enumerate(texts)]
        texts = [valid_unicode(text) for text in texts]
        return texts, _layout_texts(reader, limits), _einvoice_attachment(reader, limits.max_attachment_bytes)
    except IngestError:
        raise
    except FileNotDecryptedError:
        raise IngestError("ENCRYPTED", "password required") from None
    except LimitReachedError:
        raise IngestError("TOO_LARGE", "decompressed stream over the parser limit") from None
    except RecursionError:
        raise IngestError("MALFORMED", "objects nested too deeply") from None
    except MemoryError:
        raise
    except Exception as exc:
        raise IngestError("MALFORMED", type(exc).__name__) from None


def _parse_and_read(path: str, limits: ExtractSettings, reader: Callable[[PdfDocument], T]) -> tuple[Any, ...]:
    """Child side: ``_extract_text``'s texts, layout and attachment, then ``reader``'s result on the document they
    make (``None`` for pages that need OCR first, or when ``reader`` failed)."""
    texts, layout, attachment = _extract_text(path, limits)
    if _needs_ocr(texts, limits):
        return texts, layout, attachment, None
    try:
        read = reader(_document(list(texts), layout, attachment, {}))
    except Exception:
        read = None
    return texts, layout, attachment, read


def _layout_texts(reader: object, limits: ExtractSettings) -> list[str] | None:
    """Child side: every page in layout mode from the reader the plain text came from. A fallback view, so a page
    it cannot read within the page limit costs the view, never the document."""
    from pypdf.errors import LimitReachedError

    try:
        pages = reader.pages  # type: ignore[attr-defined]
        return [valid_unicode(_page_text(page, number, limits, layout=True)) for number, page in enumerate(pages, 1)]
    except (IngestError, LimitReachedError, RecursionError):
        return None


def _declared_page_count(reader: object) -> int:
    """The page tree's own /Count: lets a 10,000-page file be refused before its tree is walked."""
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]  # type: ignore[attr-defined]
        return int(count) if isinstance(count, int) else 0
    except Exception:
        return 0


# pypdf's word gap for fonts that carry no width for the space glyph (pypdf's default: 200 glyph units).
# Stylesheet-rendered ZUGFeRD PDFs use such fonts and their kerning after 'r' passes for a space at 200
# ("Liefer ant GmbH", "Br uttosumme"); 250-350 joins those without gluing real words together (400 starts to:
# "KundenAG"). Fonts that do define a space width are unaffected.
_FALLBACK_SPACE_WIDTH = 300.0


def _page_text(page: object, number: int, limits: ExtractSettings, *, layout: bool = False) -> str:
    """One page's text layer; a page whose text cannot be decoded is left empty for OCR to try."""
    from pypdf.errors import LimitReachedError

    try:
        with _deadline(limits.page_timeout_seconds):
            if layout:
                return layout_text(page) or ""
            share_contents(page)  # the layout reading that follows reuses this reading's tokenised content stream
            return page.extract_text(space_width=_FALLBACK_SPACE_WIDTH) or ""  # type: ignore[attr-defined]
    except _PageTimeout:
        raise IngestError("TIMEOUT", f"page {number}: text extraction over {limits.page_timeout_seconds:g} s") from None
    except (LimitReachedError, RecursionError, MemoryError):
        raise
    except Exception:
        return ""


def _einvoice_attachment(reader: object, max_bytes: int) -> tuple[str, bytes] | None:
    """The Factur-X/ZUGFeRD/XRechnung XML by its well-known name, held in memory only."""
    try:
        attachments = reader.attachments  # type: ignore[attr-defined]
        names = list(attachments)
    except Exception:
        return None  # a broken name tree costs the e-invoice tier, not the document
    by_lower = {name.lower(): name for name in names}
    for known in EINVOICE_ATTACHMENTS:
        name = by_lower.get(known)
        if name is None:
            continue
        try:
            contents = attachments[name]
        except Exception:
            continue
        for data in contents:
            if 0 < len(data) <= max_bytes:
                return name, bytes(data)
    return None


def _ocr_page(path: str, index: int, limits: ExtractSettings) -> tuple[str, Words, str]:
    """Child side: render one page with PDFium and read it with tesseract (text, word confidences, rows)."""
    import pypdfium2
    import pytesseract

    try:
        document = pypdfium2.PdfDocument(path)
    except Exception as exc:
        raise IngestError("MALFORMED", f"page {index + 1}: renderer refused ({type(exc).__name__})") from None
    try:
        page = document[index]
        width, height = page.get_size()
        scale = limits.ocr_dpi / 72
        if width * height * scale * scale > _MAX_OCR_PIXELS:
            scale = math.sqrt(_MAX_OCR_PIXELS / max(width * height, 1.0))
        image = page.render(scale=scale, grayscale=True).to_pil()
    except MemoryError:
        raise
    except Exception as exc:
        raise IngestError("MALFORMED", f"page {index + 1}: render failed ({type(exc).__name__})") from None
    finally:
        document.close()
    try:
        return read_image(image, limits.ocr_language, limits.ocr_page_timeout_seconds, dpi=scale * 72)
    except RuntimeError:
        raise IngestError("TIMEOUT", f"page {index + 1}: OCR over {limits.ocr_page_timeout_seconds:g} s") from None
    except pytesseract.TesseractError as exc:
        raise IngestError("OCR_FAILED", f"page {index + 1}: tesseract status {exc.status}") from None
