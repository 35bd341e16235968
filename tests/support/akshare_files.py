"""The shared real akshare files (``../shared/data``), read for tests and benchmarks; absent in a fresh clone.

``read_raw`` keeps the file's own code column as ``symbol`` (e.g. ``338``: leading zeros lost), so quality
checks see the file as recorded; everything else goes through the live provider's transform.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare.columns import CODE_COLUMN, STOCK_ZH_A_HIST, STOCK_ZH_A_HIST_COLUMNS
from quantdb_lab.providers.akshare.transform import transform_bars

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
AKSHARE_DIR = SHARED / "akshare_em_daily" / "stock_data"
CALENDAR_FILE = SHARED / "calendar" / "akshare_calendar.json"
_DATE = next(iter(STOCK_ZH_A_HIST_COLUMNS))


def available() -> bool:
    return AKSHARE_DIR.is_dir() and CALENDAR_FILE.is_file()


def files() -> list[Path]:
    return sorted(AKSHARE_DIR.glob("*.csv"))


def read_raw(path: Path) -> pl.DataFrame:
    """Canonical BARS of one recorded file, with ``symbol`` as written in the file's code column."""
    raw = pl.read_csv(path, schema_overrides={_DATE: pl.String, CODE_COLUMN: pl.String}, infer_schema_length=None)
    frame = transform_bars(raw, STOCK_ZH_A_HIST, parse_symbol(path.stem.zfill(6)))
    return frame.with_columns(raw.get_column(CODE_COLUMN).alias("symbol"))


def read_all(paths: list[Path] | None = None) -> pl.DataFrame:
    return pl.concat([read_raw(p) for p in (paths or files())])


def sessions() -> list[date]:
    values = json.loads(CALENDAR_FILE.read_text(encoding="utf-8"))
    return [date(int(v[:4]), int(v[4:6]), int(v[6:8])) for v in map(str, values)]
