"""RFC 8785 canonical JSON, fast for the values ledger entries hold.

``rfc8785.dumps`` is pure Python and alone caps appends near 40,000/s on this
machine. For the common case — objects with ASCII keys, strings, booleans,
null, lists and integers within ±(2**53 - 1) — orjson with sorted keys emits
the same bytes (both escape only ``"``, ``\\`` and control characters, with
the same short forms and lowercase ``\\u00xx``, and print other characters as
UTF-8). Everything else (floats, big integers, non-ASCII keys, whose RFC 8785
order is by UTF-16 code units) goes to ``rfc8785`` itself. A hypothesis test
proves byte equality with ``rfc8785.dumps`` over generated values.
"""

from __future__ import annotations

import orjson
import rfc8785

__all__ = ["canonical_json"]

_MAX_EXACT_INT = 2**53 - 1  # integers an IEEE double holds exactly; RFC 8785 numbers are doubles


def canonical_json(value: object) -> bytes:
    if _fast_path_ok(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: let rfc8785 decide what that is
            pass
    return rfc8785.dumps(value)


def _fast_path_ok(value: object) -> bool:
    """Whether orjson's bytes are RFC 8785's for ``value``; plain loops, since this runs for every entry."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT  # type: ignore[operator]
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _fast_path_ok(item):
                return False
        return True
    if kind is list:
        for item in value:  # type: ignore[attr-defined]  # noqa: SIM110 - a loop beats all() on a generator here
            if type(item) is not str and not _fast_path_ok(item):
                return False
        return True
    return False
