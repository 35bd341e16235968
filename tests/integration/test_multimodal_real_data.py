"""The view over real series: Sina's SC0 main contract and NBS CPI (tushare CSVs in ../shared/data/futures_macro),
served through a provider stub so they go through ReferenceData like any upstream. Skipped when absent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from quantdb_lab.domain.schema import COMMODITY_BARS
from quantdb_lab.domain.sources import MACRO, estimated_release
from quantdb_lab.multimodal import build_view
from tests.support import sim

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "futures_macro"
pytestmark = pytest.mark.skipif(not (DATA / "sina_futures_main" / "SC0.csv").is_file(), reason="no shared data")


def _sc0() -> pl.DataFrame:
    raw = pl.read_csv(DATA / "sina_futures_main" / "SC0.csv", try_parse_dates=True)
    return raw.rename({"hold": "open_interest"}).with_columns(pl.lit("SC0").alias("symbol")).cast(
        COMMODITY_BARS).select(list(COMMODITY_BARS))  # type: ignore[arg-type]  # fmt: skip


def _cpi() -> pl.DataFrame:
    raw = pl.read_csv(DATA / "tushare_macro_bancob" / "cpi.csv", schema_overrides={"month": pl.String})
    periods = [date(int(m[:4]), int(m[4:]), 1) for m in raw["month"].to_list()]
    return pl.DataFrame({"name": "cpi", "period": periods, "release_date": [estimated_release("cpi", p) for p in periods],
                         "value": raw["macro_cpi_nt_yoy"], "release_estimated": True}, schema=MACRO).sort("release_date")  # fmt: skip


def test_real_sc0_and_cpi_join_without_look_ahead(tmp_path, monkeypatch):
    lab, provider, _ = sim.make_lab(tmp_path, now="2025-06-06 16:00")
    monkeypatch.setattr(provider, "fetch_commodity_daily", lambda code, start=None, end=None: _sc0(), raising=False)
    monkeypatch.setattr(provider, "fetch_macro", lambda name: _cpi(), raising=False)
    frame = build_view(lab, "600000.SH", start="2024-01-01", end="2024-12-31", include=["cpi", "SC0"]).frame
    sc0 = _sc0().filter(pl.col("date").is_between(date(2024, 1, 1), date(2024, 12, 31)))
    same = frame.join(sc0.select("date", "close"), on="date", how="inner")
    assert same.height > 200 and (same["sc0_close"] == same["close_right"]).all()
    assert (frame["cpi_released"] <= frame["date"]).all()
    # the CPI of March 2024 is not visible before 15 April 2024 (conservative lag), then it is
    before = frame.filter(pl.col("date") < date(2024, 4, 15))["cpi_period"].max()
    after = frame.filter(pl.col("date") >= date(2024, 4, 15))["cpi_period"].min()
    assert before < date(2024, 3, 1) <= after
