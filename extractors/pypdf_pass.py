"""Child side: one tokenisation of a page's content stream for both of pypdf's readings (plain and layout).

Ingest reads every page twice with pypdf: plain text, then layout mode (the rules' fallback view). Each reading
tokenised the page's content stream again in pure Python - 43 % of the layout reading's time on the shared
ZUGFeRD PDFs (benchmarks/README.md, stage_bench.py). ``share_contents`` puts the page's content as a parsed
``ContentStream`` on the page, which pypdf's plain extraction uses as it is (tokenising it once and keeping the
operations), and ``layout_text`` runs pypdf's layout-mode steps on those same operations, with the defaults
``extract_text(extraction_mode="layout")`` uses. The text is pypdf's, character for character
(``tests/extractors/test_layout_view.py`` compares it with a fresh layout-mode pass on every shared ZUGFeRD PDF).
The layout steps are pypdf internals (pinned in constraints.txt); without them the public call is used.
"""

from __future__ import annotations

from typing import Any

from extractors.content_tokens import operations

__all__ = ["layout_text", "share_contents"]


def share_contents(page: Any) -> None:
    """Replace ``page``'s ``/Contents`` (a stream or an array of streams) by one ``ContentStream`` of it, so the
    readings that follow tokenise it once. In memory only: nothing is ever written back to a file."""
    from pypdf.generic import ArrayObject, ContentStream, NameObject, StreamObject

    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if isinstance(contents, (ArrayObject, StreamObject)) and not isinstance(contents, ContentStream):
        stream = ContentStream(contents, page.pdf, "bytes")
        read = operations(stream)
        if read is not None:
            stream.operations = read  # else pypdf tokenises it itself when first asked
        page[NameObject("/Contents")] = stream


def layout_text(page: Any) -> str:
    """pypdf's layout mode of ``page``, from the operations ``share_contents`` left on it (else the public call)."""
    from pypdf.generic import ContentStream

    contents = page.get("/Contents")
    try:
        from pypdf._text_extraction import _layout_mode
    except ImportError:
        contents = None
    if not isinstance(contents, ContentStream) or not hasattr(page, "_layout_mode_fonts"):
        return page.extract_text(extraction_mode="layout")  # type: ignore[no-any-return]
    # as PageObject._layout_mode_text with its defaults: rotated text stripped, blank lines kept, weights 1.25 / 1
    groups = _layout_mode.text_show_operations(iter(contents.operations), page._layout_mode_fonts(), True, None)
    if not groups:
        return ""
    lines = _layout_mode.y_coordinate_groups(groups, None)
    return _layout_mode.fixed_width_page(lines, _layout_mode.fixed_char_width(groups, 1.25), True, 1)  # type: ignore[no-any-return]
