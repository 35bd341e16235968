"""Parsing the dates researchers type: ``2024-01-31``, ``20240131``, ``2024/01/31``, date and datetime objects."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from quantdb_lab.errors import InvalidDateRangeError

DateLike = str | date | datetime | None


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> date:
    cleaned = text.strip().replace("/", "-")
    try:
        if len(cleaned) == 8 and cleaned.isdigit():
            return date(int(cleaned[:4]), int(cleaned[4:6]), int(cleaned[6:]))
        return date.fromisoformat(cleaned[:10])
    except ValueError:
        raise InvalidDateRangeError(f"cannot read {text!r} as a date; write 2024-01-31 or 20240131") from None


def parse_date(value: DateLike, *, field: str = "date") -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _parse_text(value)
    raise InvalidDateRangeError(f"{field} must be a date or a string like 2024-01-31, not {type(value).__name__}")


def parse_range(start: DateLike, end: DateLike) -> tuple[date | None, date | None]:
    """Both ends inclusive, ``None`` means open. Raises on end before start."""
    first = parse_date(start, field="start")
    last = parse_date(end, field="end")
    if first is not None and last is not None and last < first:
        raise InvalidDateRangeError("end is before start", start=first, end=last)
    return first, last
