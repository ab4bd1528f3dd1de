"""The ``process-files`` flow's own rules, without a server: which names it accepts (< 1 s).

Parameters arrive over the Prefect API, so only plain inbox names are
accepted. What a run takes over from dead runs is tested in test_recovery.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cluster.pool import _inbox_file


@pytest.mark.parametrize("name", ["", ".", "..", "../etc/passwd", "/etc/passwd", "a/b.pdf", ".hidden.pdf", "x\0.pdf"])
def test_names_that_could_leave_the_inbox_or_hide_are_refused(name: str) -> None:
    assert _inbox_file(Path("/data/inbox"), name) is None


def test_a_plain_name_is_an_inbox_file() -> None:
    assert _inbox_file(Path("/data/inbox"), "invoice 7 (copy).pdf") == Path("/data/inbox/invoice 7 (copy).pdf")
