"""The per-day model budget, shared by every process of an installation.

Several workers may call models at once, so the day's spend lives in a small
JSON file under data_dir guarded by a file lock. A call first *reserves* its
worst-case cost (prompt estimate + maximum answer) and later *settles* the
real cost, so two processes cannot both squeeze through under the limit. Days
are UTC; only the last few days are kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from filelock import FileLock

__all__ = ["DayBudget"]

_DAYS_KEPT = 31


def _utc_today() -> str:
    return datetime.now(UTC).date().isoformat()


class DayBudget:
    def __init__(self, path: Path, limit_usd: Decimal, today: Callable[[], str] = _utc_today) -> None:
        self.path = path
        self.limit = limit_usd
        self._today = today
        self._lock = FileLock(str(path) + ".lock", timeout=30)

    def spent_today(self) -> Decimal:
        with self._lock:
            return self._read().get(self._today(), Decimal(0))

    def reserve(self, usd: Decimal) -> bool:
        """Book ``usd`` against today's budget if it still fits; False (nothing booked) otherwise."""
        with self._lock:
            spend = self._read()
            day = self._today()
            if spend.get(day, Decimal(0)) + usd > self.limit:
                return False
            spend[day] = spend.get(day, Decimal(0)) + usd
            self._write(spend)
            return True

    def settle(self, reserved: Decimal, actual: Decimal) -> None:
        """Replace a reservation by what the call really cost."""
        with self._lock:
            spend = self._read()
            day = self._today()
            spend[day] = max(spend.get(day, Decimal(0)) - reserved + actual, Decimal(0))
            self._write(spend)

    def _read(self) -> dict[str, Decimal]:
        if not self.path.exists():
            return {}
        return {day: Decimal(usd) for day, usd in json.loads(self.path.read_text(encoding="utf-8")).items()}

    def _write(self, spend: dict[str, Decimal]) -> None:
        kept = dict(sorted(spend.items())[-_DAYS_KEPT:])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({day: str(usd) for day, usd in kept.items()}), encoding="utf-8")
        temporary.replace(self.path)
