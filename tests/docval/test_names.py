"""``docval.names.shown``: every hostile character visible, none interpreted, and no two names alike.

The examples are the attacks issue 15 names (non-UTF-8 bytes, a newline that
forges a table row, ANSI CSI and OSC sequences, a bidi override); the
properties hold for any string a file system can hand over, surrogate escapes
of undecodable bytes included: the result is one line of valid UTF-8 with no
control, format or separator character, and decoding it gives the name back.
"""

from __future__ import annotations

import os
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from docval.names import decodable, shown

_HIDDEN = {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"}
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _unshown(text: str) -> str:
    """The inverse of ``shown``, written independently of it: what an auditor would do to get the name back."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "\\":
            return "\\"
        code = int(body[1:], 16)
        return chr(0xDC00 + code) if body[0] == "x" and code >= 0x80 else chr(code)

    return _ESCAPE.sub(one, text)


def _visible(text: str) -> bool:
    return all(unicodedata.category(char) not in _HIDDEN for char in text)


def test_the_attacks_of_issue_15_are_shown_not_interpreted() -> None:
    raw = os.fsdecode(b"bad-\xff\xfe.pdf")
    assert not decodable(raw) and decodable("ok-\u00e9.pdf")
    assert shown(raw) == "bad-\\xff\\xfe.pdf"
    assert shown("line1\nforged-row  published.pdf") == "line1\\x0aforged-row  published.pdf"
    assert shown("\x1b[2J\x1b[31mred") == "\\x1b[2J\\x1b[31mred"
    assert shown("osc \x1b]0;pwned\x07.pdf") == "osc \\x1b]0;pwned\\x07.pdf"
    assert shown("bidi \u202efdp.exe") == "bidi \\u202efdp.exe"
    assert shown("a\\x1b") == "a\\\\x1b" != shown("a\x1b")  # a literal backslash cannot pose as an escape
    assert shown(os.fsdecode(b"\x85")) == "\\x85" != shown("\x85") == "\\u0085"  # byte 0x85 vs U+0085
    assert shown("Rechnung Müller 2026-11.pdf") == "Rechnung Müller 2026-11.pdf"  # ordinary names stay as they are


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_shown_is_visible_utf8_and_reversible(name: str) -> None:
    escaped = shown(name)
    assert _visible(escaped) and "\n" not in escaped
    escaped.encode("utf-8")  # no surrogate survives
    assert _unshown(escaped) == name


@given(st.binary(max_size=64))
def test_any_file_name_bytes_come_back_from_what_is_shown(raw: bytes) -> None:
    name = os.fsdecode(raw)
    assert os.fsencode(_unshown(shown(name))) == raw
    assert decodable(name) == (raw.decode("utf-8", "replace").encode("utf-8") == raw)
