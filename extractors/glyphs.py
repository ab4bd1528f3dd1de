"""Child side: text layers repaired as pypdf reads them - words rebuilt from glyph positions where it finds no word
gaps, and characters made plain (``valid_unicode``).

Runs in the sandbox child during ingest (``extractors.pdf``). Glyph words are for the rare page whose pypdf text has
(almost) no spaces: producers that place every word with its own positioning operator and no space character.
"""

from __future__ import annotations

__all__ = ["glyph_text", "lacks_spaces", "valid_unicode"]

_GLUED_TOKEN = 20  # characters: longer "words" are several words without a gap pypdf recognised
_MIN_LETTERS = 40
_WORD_GAP_EM = 0.08  # a gap wider than this share of the font size between two glyphs' advance boxes is a space


def lacks_spaces(text: str) -> bool:
    """pypdf found (almost) no word gaps: a third of the page's letters sit in Latin-script "words" of 20+
    characters (Chinese, Japanese or Thai are written without spaces and are left as they are)."""
    tokens = text.split()
    letters = sum(len(token) for token in tokens)
    glued = sum(len(t) for t in tokens if len(t) >= _GLUED_TOKEN and _latin(t))
    return letters >= _MIN_LETTERS and glued * 3 > letters


def _latin(token: str) -> bool:
    return sum(char < "\u0250" for char in token) * 10 >= len(token) * 9


def glyph_text(path: str, index: int, fallback: str) -> str:
    """A page's words rebuilt from glyph positions (PDFium's advance boxes): some producers place every word with
    its own positioning operator and a gap too small for pypdf's space heuristic, and no space character at all.
    ``fallback`` (pypdf's text) stands when PDFium cannot read the page: this is a repair, never a new failure."""
    import pypdfium2
    import pypdfium2.raw as pdfium_raw

    try:
        document = pypdfium2.PdfDocument(path)
    except Exception:
        return fallback
    try:
        textpage = document[index].get_textpage()
        chars: list[str] = []
        previous_right: float | None = None
        for position in range(textpage.count_chars()):
            char = chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, position))
            left, _, right, _ = textpage.get_charbox(position, loose=True)
            size = pdfium_raw.FPDFText_GetFontSize(textpage.raw, position)
            if char in "\r\n":
                previous_right = None
                if char == "\n":
                    chars.append("\n")
                continue
            glued = chars and not chars[-1].isspace() and not char.isspace()
            if glued and previous_right is not None and left - previous_right > _WORD_GAP_EM * size:
                chars.append(" ")
            chars.append(char)
            previous_right = right
        return "".join(chars)
    except MemoryError:
        raise
    except Exception:
        return fallback
    finally:
        document.close()


# Ligature glyphs (browsers and word processors set 'fi' as U+FB01) as their letters: 'rectiﬁcativa' matches no label.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})


def valid_unicode(text: str) -> str:
    """Surrogate pairs joined into their characters and lone surrogates replaced: pypdf passes a font's UTF-16 map
    through unjoined (an emoji becomes two lone surrogates), which no UTF-8 writer, tokenizer or database accepts.
    Ligatures are spelt out (``_LIGATURES``)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").translate(_LIGATURES)
