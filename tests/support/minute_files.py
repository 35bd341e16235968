"""The shared real minute bars (``../shared/data/minute_bars``, README there), read into ``MINUTE_BARS`` frames.

Tests that use them skip cleanly when the shared folder is absent. Nothing here is copied into the repo.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from quantdb_lab.domain.schema import MINUTE_BARS

MINUTES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "minute_bars"
EASTMONEY = MINUTES / "akshare_em_lixiaodog"
SSE_ZIP = MINUTES / "czsc_000001.XSHG_1min_2015-2019.zip"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path.name}")
    return path


def _local(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime("%Y-%m-%d %H:%M:%S").dt.replace_time_zone("Asia/Shanghai").alias("time")


def eastmoney(name: str, symbol: str) -> pl.DataFrame:
    """An akshare ``*_hist_min_em`` frame as recorded (``datetime,open,close,high,low,volume,成交额,...``; volume in
    lots), as raw canonical columns: opens left exactly as recorded (0.0 included), volume in shares."""
    raw = pl.read_csv(require(EASTMONEY / name))
    return raw.select(pl.lit(symbol).alias("symbol"), _local("datetime"), "open", "high", "low", "close",
                      (pl.col("volume") * 100.0).alias("volume"), pl.col("成交额").cast(pl.Float64).alias("amount"),
                      pl.lit(False).alias("open_estimated")).cast(MINUTE_BARS)  # fmt: skip


def sse_composite() -> pl.DataFrame:
    """SSE Composite 1-minute bars 2015-2019 (czsc's export; volume in shares, no amount), ``MINUTE_BARS``."""
    with zipfile.ZipFile(require(SSE_ZIP)) as archive:
        raw = pl.read_csv(io.BytesIO(archive.read(archive.namelist()[0])))
    return raw.select(pl.lit("000001.SH").alias("symbol"), _local("dt"), "open", "high", "low", "close",
                      pl.col("vol").cast(pl.Float64).alias("volume"), pl.lit(None, pl.Float64).alias("amount"),
                      pl.lit(False).alias("open_estimated")).cast(MINUTE_BARS)  # fmt: skip


def sse_composite_daily() -> pl.DataFrame:
    """The same vendor's SSE Composite daily bars (``index_daily/czsc_000001.SH_D.csv``, volume in lots)."""
    raw = pl.read_csv(require(MINUTES.parent / "index_daily" / "czsc_000001.SH_D.csv"))
    return raw.select(pl.col("dt").str.slice(0, 10).str.to_date().alias("date"), "open", "high", "low", "close",
                      (pl.col("vol") * 100.0).alias("volume"))  # fmt: skip
