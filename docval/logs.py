"""Logging that cannot print document content.

Log lines reach the console, files and (through Prefect) its database, so
the rule is structural: messages are fixed format strings whose arguments are
ids, codes, counts and paths inside the data directory. As a second line of
defence the filter below blanks anything that looks like an e-mail address,
an IBAN or a long digit run before a record is emitted, so a mistake in a
format string costs a masked value, not a leak.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactingFilter", "redact", "setup_logging"]

_SENSITIVE = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail
    r"|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"  # IBAN-like
    r"|(?<![0-9a-f])\d(?:[ -]?\d){8,18}(?![0-9a-f])"  # card / account / phone-like digit runs
)


def redact(text: str) -> str:
    return _SENSITIVE.sub("[redacted]", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once: one line per event, redacting filter on the handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
