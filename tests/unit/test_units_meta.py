"""The volume corrections kept with a series (``SeriesMeta.units``): a row fetched again replaces its stored
correction (a clean answer leaves none), a merge keeps each copy's corrections for the rows it contributes, and
the metadata's JSON round trip keeps them exactly."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.calendar import day_number
from quantdb_lab.domain.schema import BARS, conform
from quantdb_lab.loader.units import UnitCorrections
from quantdb_lab.store.merge import merge_series
from quantdb_lab.store.records import SeriesMeta
from quantdb_lab.store.series_store import SeriesStore

DAYS = [date(2025, 3, 3) + timedelta(days=i) for i in range(10)]


def bars(quirk: tuple[date, ...] = ()) -> pl.DataFrame:
    volume = [1_000_000.0 * (1 + i % 3) for i in range(10)]
    close = [10.0] * 10
    frame = pl.DataFrame({"symbol": ["600519.SH"] * 10, "date": DAYS, "open": close, "high": close, "low": close,
                          "close": close, "volume": volume, "amount": [v * 10.0 for v in volume],
                          "turnover": [0.01] * 10, "pct_change": [0.0] * 10, "change": [0.0] * 10})  # fmt: skip
    hit = pl.col("date").is_in(list(quirk))
    frame = frame.with_columns(pl.when(hit).then(pl.col("volume") * 100).otherwise(pl.col("volume")).alias("volume"),
                               pl.when(hit).then(0.0).otherwise(pl.col("turnover")).alias("turnover"))  # fmt: skip
    return conform(frame, BARS, source="test")


def test_a_row_fetched_again_replaces_its_correction(tmp_path):
    units = UnitCorrections(SeriesStore(tmp_path, source="test"), "test")
    fixed, known = units.on_ingest(bars((DAYS[4],)), DAYS, ())
    assert [u[0] for u in known] == [day_number(DAYS[4])] and known[0][2] == 2_000_000.0 * 100  # as received
    assert fixed["volume"][4] == 2_000_000.0
    _, again = units.on_ingest(bars(), DAYS[3:6], known)  # the upstream now sends the day right
    assert again == ()
    _, other = units.on_ingest(bars((DAYS[7],)), DAYS[6:], known)  # another day: both kept
    assert [u[0] for u in other] == [day_number(DAYS[4]), day_number(DAYS[7])]


def test_a_merge_keeps_the_corrections_of_the_rows_each_copy_contributes():
    day = day_number
    base = SeriesMeta(units=((day(DAYS[1]), 0.01, 1e8, 0.0), (day(DAYS[8]), 0.01, 3e8, None)))
    ours_frame = bars().filter(pl.col("date") >= DAYS[5])  # ours holds days 5..9: its row of day 8 wins
    ours = SeriesMeta(units=((day(DAYS[6]), 0.01, 2e8, 0.0),))
    _, merged = merge_series(bars().filter(pl.col("date") < DAYS[9]), base, ours_frame, ours)
    assert merged.units == ((day(DAYS[1]), 0.01, 1e8, 0.0), (day(DAYS[6]), 0.01, 2e8, 0.0))
    assert SeriesMeta.from_json(merged.to_json()).units == merged.units
    assert "units" not in SeriesMeta().to_json()  # a series without corrections: the JSON as before


def test_real_minute_bars_have_no_unit_switch_and_a_session_sent_in_shares_is_found():
    """On the shared real Eastmoney minute bars nothing is corrected; one session's volume x100 (the quirk) is
    found and put back, all others untouched (expected: the recorded file's volumes)."""
    from quantdb_lab.quality.units import correct_minute_units, revert_minutes
    from tests.support.minute_files import eastmoney

    for name, symbol in (("600519_1min.csv", "600519.SH"), ("600519_5min.csv", "600519.SH"),
                         ("300766_5min.csv", "300766.SZ")):  # fmt: skip
        real = eastmoney(name, symbol)
        fixed, found = correct_minute_units(real)
        assert found.is_empty() and fixed.equals(real), name
        sessions = real["time"].dt.date().unique().sort()
        hit = pl.col("time").dt.date() == sessions[1]
        sent = real.with_columns(pl.when(hit).then(pl.col("volume") * 100).otherwise(pl.col("volume")).alias("volume"))
        fixed, found = correct_minute_units(sent)
        assert found["date"].to_list() == [sessions[1]] and found["factor"].to_list() == [0.01]
        assert fixed["volume"].to_list() == pytest.approx(real["volume"].to_list())
        assert revert_minutes(fixed, found)["volume"].to_list() == pytest.approx(sent["volume"].to_list())
