"""Parsing the dates researchers type: ``2024-01-31``, ``20240131``, ``2024/01/31``, ``2024-1-5``, ISO moments
(``2024-01-31 09:30``), date, datetime and pandas Timestamp objects.

Strict: text that is not wholly a date is refused (``2024-01-015`` is not 2024-01-01), and a moment with a
timezone is read on the exchange's clock, so 20:00 UTC is the next morning's session day in Shanghai.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.errors import InvalidDateRangeError

DateLike = str | date | datetime | None

_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> date | None:
    """The date ``text`` names, or None when it is not one."""
    cleaned = text.strip()
    match = _DAY.fullmatch(cleaned) or _COMPACT.fullmatch(cleaned)
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
        return _moment_day(datetime.fromisoformat(cleaned))  # "2024-01-31 09:30", "2024-01-31T09:30+08:00"
    except ValueError:
        return None


def _moment_day(moment: datetime) -> date:
    return to_exchange_time(moment).date() if moment.tzinfo is not None else moment.date()


def parse_date(value: DateLike, *, field: str = "date") -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # pandas' Timestamp is one; its NaT too, and NaT != NaT
        if value != value:
            raise InvalidDateRangeError(f"{field} is NaT (not a time); give a date like 2024-01-31 or None")
        return _moment_day(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = _parse_text(value)
        if parsed is None:
            raise InvalidDateRangeError(f"cannot read {field}={value!r} as a date; write 2024-01-31 or 20240131")
        return parsed
    raise InvalidDateRangeError(f"{field} must be a date or a string like 2024-01-31, not {type(value).__name__}")


def parse_range(start: DateLike, end: DateLike) -> tuple[date | None, date | None]:
    """Both ends inclusive, ``None`` means open. Raises on end before start."""
    first = parse_date(start, field="start")
    last = parse_date(end, field="end")
    if first is not None and last is not None and last < first:
        raise InvalidDateRangeError("end is before start", start=first, end=last)
    return first, last
