"""Properties of the quality report: corrections never touch prices of rows they do not list, the report is
deterministic, and faults put in one place never move another symbol's rows."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdb_lab.quality import check_quality

PRICES = ("open", "high", "low", "close")


@st.composite
def frames(draw):
    n = draw(st.integers(30, 70))
    steps = draw(st.lists(st.floats(-0.12, 0.12, allow_nan=False), min_size=n, max_size=n))
    volumes = draw(st.lists(st.floats(1e5, 1e8), min_size=n, max_size=n))
    rows, price, day = [], 10.0, date(2024, 1, 2)
    for i, (step, volume) in enumerate(zip(steps, volumes, strict=True)):
        ref, price = price, max(round(price * (1 + step), 2), 0.01)
        day += timedelta(days=1 + (day.weekday() == 4) * 2)
        rows.append({"symbol": "000001.SZ", "date": day, "open": ref, "high": max(ref, price), "low": min(ref, price),
                     "close": price, "volume": volume, "amount": volume * price, "turnover": volume / 1e9,
                     "pct_change": (price - ref) / ref, "change": round(price - ref, 2)})
    frame = pl.DataFrame(rows)
    if draw(st.booleans()):  # a volume unit switch somewhere
        k = draw(st.integers(5, n - 5))
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == k).then(pl.col("volume") * 100)
                                   .otherwise(pl.col("volume")).alias("volume"))  # fmt: skip
    if draw(st.booleans()):  # lost leading zeros on a prefix
        k = draw(st.integers(1, n - 1))
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) < k).then(pl.lit("1")).otherwise(pl.col("symbol"))
                                   .alias("symbol"))  # fmt: skip
    return frame


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_corrections_never_change_prices_and_only_drop_listed_rows(frame):
    report = check_quality(frame)
    original = frame.with_columns(pl.lit("000001.SZ").alias("symbol"))
    kept = report.corrected.join(original, on=["symbol", "date"], how="left", suffix="_in")
    for column in PRICES:
        assert (kept[column] == kept[f"{column}_in"]).all()
    dropped = original.join(report.corrected, on=["symbol", "date"], how="anti")["date"].to_list()
    listed = report.issues.filter(pl.col("status") == "corrected")["date"].to_list()
    assert set(dropped) <= set(listed)
    assert report.corrected.height == frame.height - len(dropped)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_report_is_deterministic_and_order_independent(frame):
    first = check_quality(frame)
    second = check_quality(frame.sample(fraction=1.0, shuffle=True, seed=3))
    assert first.issues.equals(second.issues)
    assert first.corrected.equals(second.corrected)
    assert first.score == second.score


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), frames())
def test_one_symbol_never_changes_another(a, b):
    b = b.with_columns(pl.lit("600000.SH").alias("symbol"))
    alone = check_quality(b)
    together = check_quality(pl.concat([a, b]))
    assert together.issues.filter(pl.col("symbol") == "600000.SH").equals(alone.issues)
    assert together.score["600000.SH"] == alone.score["600000.SH"]
