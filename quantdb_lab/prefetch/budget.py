"""The daily call budget of warming: how many upstream calls the warmer may spend per exchange day, shared by
every process on the cache directory (kernels, cron) through ``prefetch/budget.json``.

Foreground requests never count against it; a new day starts a fresh budget. ``QUANTDB_LAB_WARM_BUDGET``
overrides the default.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Final

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.prefetch.jsonfile import read_json, update_json

DEFAULT_DAILY_CALLS: Final = 200  # 100 s at akshare's 2 calls/s: a few watchlists, never a whole market by accident
FILE_NAME: Final = "budget.json"
VERSION: Final = 1


def default_daily_calls() -> int:
    value = os.environ.get("QUANTDB_LAB_WARM_BUDGET")
    return int(value) if value and value.isdigit() else DEFAULT_DAILY_CALLS


class CallBudget:
    def __init__(self, directory: Path, per_day: int | None = None) -> None:
        per_day = default_daily_calls() if per_day is None else per_day
        if per_day < 0:
            raise InvalidRequestError(f"the daily warming budget must be >= 0 calls, not {per_day}")
        self.per_day = per_day
        self.path = Path(directory) / FILE_NAME

    def spent(self, day: date) -> int:
        data = read_json(self.path, VERSION)
        return int(data.get("spent", 0)) if data.get("day") == day.isoformat() else 0

    def remaining(self, day: date) -> int:
        return max(0, self.per_day - self.spent(day))

    def spend(self, day: date, calls: int) -> int:
        """Record ``calls`` spent on ``day``; returns the day's total."""

        def change(data: dict) -> dict:
            spent = int(data.get("spent", 0)) if data.get("day") == day.isoformat() else 0
            return {"day": day.isoformat(), "spent": spent + max(0, calls)}

        return int(update_json(self.path, VERSION, change)["spent"])
