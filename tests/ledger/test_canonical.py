"""The fast canonical encoder must emit exactly the bytes of ``rfc8785.dumps``, or fall back to it."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import EntryDraft, LedgerError
from ledger.canonical import canonical_json
from ledger.entries import encode_entries
from ledger.merkle import leaf_hash

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "\ud800", "é", "\U0001f600", "\ue000"])
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=25,
)


def _rfc8785_or_error(value: object) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(value)
    except Exception as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_encoder_is_byte_identical_to_rfc8785(value: object) -> None:
    expected = _rfc8785_or_error(value)
    if isinstance(expected, bytes):
        assert canonical_json(value) == expected
    else:
        with pytest.raises(expected):
            canonical_json(value)


def test_key_order_is_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\ue000": 2, "a": 3}  # code points: a < U+E000 < U+1F600; UTF-16: a < D83D.. < E000
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index(b"\xf0\x9f") < canonical_json(value).index(b"\xee\x80")


def test_integers_beyond_doubles_are_not_silently_rounded() -> None:
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_json({"n": 2**53 + 1})


printable = st.text(min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(printable, st.none() | st.text(max_size=12), printable, st.dictionaries(st.text(max_size=6), values)),
        min_size=1,
        max_size=4,
    ),
    st.integers(min_value=0, max_value=2**40),
)
def test_entries_assembled_from_parts_are_rfc8785_bytes_of_the_whole_envelope(
    fields: list[tuple[str, str | None, str, dict[str, object]]], first_seq: int
) -> None:
    drafts = [EntryDraft(kind, doc, actor, data) for kind, doc, actor, data in fields]
    if any(not isinstance(_rfc8785_or_error(draft.data), bytes) for draft in drafts):
        with pytest.raises(LedgerError):
            encode_entries(first_seq, b"0" * 64, "2026-01-01T00:00:00.000001Z", drafts)
        return
    bodies, leaves = encode_entries(first_seq, b"0" * 64, "2026-01-01T00:00:00.000001Z", drafts)
    prev = "0" * 64
    for offset, (draft, body, leaf) in enumerate(zip(drafts, bodies, leaves, strict=True)):
        envelope = {
            "seq": first_seq + offset, "prev": prev, "ts": "2026-01-01T00:00:00.000001Z", "kind": draft.kind,
            "doc": draft.doc, "actor": draft.actor, "data": draft.data,
        }  # fmt: skip
        assert body == rfc8785.dumps(envelope)
        assert leaf == leaf_hash(body)
        prev = leaf.hex()
