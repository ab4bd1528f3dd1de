"""File names as people see them: every character visible, none interpreted.

Inbox names come from whoever can write the inbox. A newline forges a line in
a table, an ANSI CSI or OSC sequence recolours or retitles the terminal (or
hides what follows), a bidi override reverses what is read, and bytes that
are not UTF-8 arrive as lone surrogates that crash an encoder further on.
``shown`` is the one function every terminal, log, Prefect name and outbox
record uses, so a name is escaped the same way everywhere.
"""

from __future__ import annotations

import os
import unicodedata

__all__ = ["decodable", "shown"]

# Control (Cc), format (Cf: bidi overrides, zero-width), surrogates (Cs: undecodable bytes), unassigned (Cn),
# and the line/paragraph separators: none of them may reach a screen or a log as themselves.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})


def _escape(char: str) -> str:
    """``\\xNN`` for an ASCII control or a raw byte, ``\\uNNNN``/``\\UNNNNNNNN`` for any other character.

    Raw bytes (``os.fsdecode``'s surrogateescape, U+DC80..U+DCFF) are the only ``\\x80``..``\\xff``; C1
    controls such as U+0085 are ``\\u0085``: the byte 0x85 and the character U+0085 never look alike.
    """
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(name: str) -> str:
    """``name`` with backslashes doubled and every invisible or undecodable character as a ``\\x..``/``\\u....`` escape.

    The result is printable, one line, valid UTF-8, and different names stay different (the escape is reversible).
    """
    return "".join(
        "\\\\" if char == "\\" else _escape(char) if unicodedata.category(char) in _HIDDEN else char for char in name
    )


def decodable(name: str) -> bool:
    """True when the file name's bytes are valid UTF-8 (``os.fsdecode`` left no surrogate escapes in it)."""
    try:
        os.fsencode(name).decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return False
    return True
