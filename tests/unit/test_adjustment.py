"""Factor events and multiplicative adjustment (``domain.adjustment``), against hand-computed values and the
simulated market's exact ground truth (its actions and cumulative multipliers, generated independently)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantdb_lab.domain.adjustment import adjust_prices, factor_events, multipliers, series_events
from quantdb_lab.domain.calendar import day_number
from quantdb_lab.providers.simulated import SimulatedMarket

D0 = date(2024, 7, 1)


def bars(closes, changes=None, *, symbol="601398.SH", start=D0) -> pl.DataFrame:
    """Bars with ``change`` against the previous close unless ``changes`` says otherwise."""
    closes = list(closes)
    if changes is None:
        changes = [None] + [None if c is None or p is None else round(c - p, 2) for p, c in pairwise(closes)]
    days = [start + timedelta(days=i) for i in range(len(closes))]
    return pl.DataFrame({"symbol": [symbol] * len(closes), "date": days, "open": closes, "high": closes,
                         "low": closes, "close": closes, "pct_change": [None] * len(closes), "change": changes},
                        schema_overrides={c: pl.Float64 for c in ("open", "high", "low", "close", "pct_change", "change")})  # fmt: skip


def ex_dividend_series():
    # 5.00, 5.10, then ex-dividend of 0.30: reference 4.80, close 4.85 (change +0.05 against the reference)
    closes = [5.00, 5.10, 4.85, 4.90, 4.95]
    changes = [None, 0.10, 0.05, 0.05, 0.05]
    return bars(closes, changes)


def test_an_ex_date_is_one_event_with_the_reference_price():
    events = factor_events(ex_dividend_series())
    assert events["date"].to_list() == [D0 + timedelta(days=2)]
    assert events["factor"][0] == pytest.approx(5.10 / 4.80)
    assert events["reference"][0] == pytest.approx(4.80)


def test_hfq_and_qfq_by_hand():
    frame = ex_dividend_series()
    events = factor_events(frame)
    hfq = adjust_prices(frame, events, "hfq")
    qfq = adjust_prices(frame, events, "qfq")
    f = 5.10 / 4.80
    assert hfq["close"].to_list() == pytest.approx([5.00, 5.10, 4.85 * f, 4.90 * f, 4.95 * f])
    assert qfq["close"].to_list() == pytest.approx([5.00 / f, 5.10 / f, 4.85, 4.90, 4.95])
    # the ex-date's return is the total return 4.85 / 4.80 - 1 in both, change continuous with the previous close
    for out in (hfq, qfq):
        closes = out["close"].to_numpy()
        assert closes[2] / closes[1] - 1 == pytest.approx(4.85 / 4.80 - 1)
        assert out["pct_change"][2] == pytest.approx(4.85 / 4.80 - 1)
        assert out["change"][2] == pytest.approx(closes[2] - closes[1])


def test_a_close_to_close_change_gives_no_event_and_prices_are_unchanged():
    frame = bars([5.00, 5.10, 4.85, 4.90])  # the drop is in the change itself: nothing says it was ex-rights
    assert factor_events(frame).is_empty()
    assert_frame_equal(adjust_prices(frame, factor_events(frame), "qfq"), frame)


def test_rounding_noise_is_no_event_but_one_cent_is():
    frame = bars([10.01, 10.02, 10.03], [None, 0.01 + 1e-12, 0.02])  # reference 10.01 against a close of 10.02
    events = factor_events(frame)
    assert events["date"].to_list() == [D0 + timedelta(days=2)]
    assert events["factor"][0] == pytest.approx(10.02 / 10.01)


def test_first_row_and_suspensions_use_the_previous_traded_close():
    # first row's change says nothing; the null-close row (suspension written as a bar) is skipped
    frame = bars([8.0, 8.2, None, 8.1, 8.15], [0.5, 0.2, None, -0.1, 0.05])
    assert factor_events(frame).is_empty()
    # an ex-date right after the suspension: reference 7.9 against the last traded close 8.2
    frame = bars([8.0, 8.2, None, 8.0, 8.05], [None, 0.2, None, 0.1, 0.05])
    events = factor_events(frame)
    assert events["date"].to_list() == [D0 + timedelta(days=3)] and events["factor"][0] == pytest.approx(8.2 / 7.9)


def test_rows_of_another_security_are_not_events():
    base = [7.20, 7.25, 7.30, 7.28, 7.31, 7.35, 7.40]
    one = bars(base[:3] + [15.60] + base[4:], [None, 0.05, 0.05, 0.10, 0.03, 0.04, 0.05])  # foreign 15.60 (15.50 prev)
    assert factor_events(one).is_empty()
    run = [7.20, 7.25, 7.30, 3.10, 3.12, 3.15, 3.11, 7.33, 7.35]  # a run of four rows of a 3-CNY stock
    changes = [None, 0.05, 0.05, 0.02, 0.02, 0.03, -0.04, 0.03, 0.02]
    assert factor_events(bars(run, changes)).is_empty()
    # the same run, and a genuine dividend later: only the dividend is an event
    run2 = run + [7.05, 7.10]
    changes2 = changes + [0.05, 0.05]  # reference 7.00 against 7.35
    events = factor_events(bars(run2, changes2))
    assert events["date"].to_list() == [D0 + timedelta(days=9)]
    assert events["factor"][0] == pytest.approx(7.35 / 7.00)


def test_long_frames_equal_per_symbol_application():
    a = ex_dividend_series()
    b = bars([20.0, 20.4, 18.6, 18.8], [None, 0.4, 0.1, 0.2], symbol="600028.SH")  # reference 18.5
    long = pl.concat([a, b])
    events = factor_events(long)
    assert events["symbol"].to_list() == ["600028.SH", "601398.SH"]  # sorted by symbol
    for how in ("hfq", "qfq"):
        whole = adjust_prices(long, events, how)
        parts = pl.concat([adjust_prices(part, factor_events(part), how) for part in (a, b)])
        assert_frame_equal(whole, parts)
    lazy = adjust_prices(long.lazy(), events, "qfq")
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), adjust_prices(long, events, "qfq"))


def test_qfq_is_point_in_time_and_includes_events_after_the_frame():
    frame = ex_dividend_series()
    events = factor_events(frame)
    before = frame.head(2)
    # reading only the first two days: qfq still knows the later event (R after it), unless R is before it
    assert adjust_prices(before, events, "qfq")["close"].to_list() == pytest.approx([5.0 * 4.8 / 5.1, 4.8])
    assert adjust_prices(before, events, "qfq", reference=D0 + timedelta(days=1))["close"].to_list() == [5.0, 5.1]
    # hfq of the last rows alone still carries the earlier event
    assert adjust_prices(frame.tail(2), events, "hfq")["close"].to_list() == pytest.approx([4.90 * 5.1 / 4.8, 4.95 * 5.1 / 4.8])


def test_preclose_column_is_used_when_present():
    frame = bars([5.0, 5.1, 4.85]).with_columns(pl.Series("preclose", [None, 5.0, 4.8]))
    events = factor_events(frame)
    assert events["factor"].to_list() == pytest.approx([5.1 / 4.8])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.9, 1.1), st.booleans(), st.floats(0.9, 0.999)), min_size=2, max_size=60),
       st.integers(0, 60))  # fmt: skip
def test_single_series_multipliers_equal_the_long_form(steps, cut):
    closes, changes, price = [], [], 10.0
    for move, is_ex, ratio in steps:
        reference = round(price * ratio, 2) if is_ex else price
        price = round(max(reference * move, 0.05), 2)
        closes.append(price)
        changes.append(round(price - reference, 2))
    changes[0] = None
    frame = bars(closes, changes)
    events = factor_events(frame)
    days = np.array([day_number(d) for d in frame["date"]])
    ev_days = np.array([day_number(d) for d in events["date"]], dtype=np.int64)
    ref = days[min(cut, len(days) - 1)]
    for how in ("hfq", "qfq"):
        expect = frame["close"].to_numpy() * multipliers(days, ev_days, events["factor"].to_numpy(), how,
                                                          reference_day=ref)  # fmt: skip
        got = adjust_prices(frame, events, how, reference=frame["date"][min(cut, len(days) - 1)])["close"]
        assert got.to_numpy() == pytest.approx(expect, rel=1e-12)


# -- the simulated market's independent ground truth -------------------------------------------------------
@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=7)


def test_events_from_simulated_bars_are_the_markets_actions(market):
    symbol = next(s for s in market.symbols("stock") if len(market.ex_dates(s)) >= 5)
    raw = market.bars(symbol, now=None)
    truth = market.actions(symbol)
    events = factor_events(raw)
    assert events["date"].to_list() == truth["ex_date"].to_list()
    assert events["factor"].to_numpy() == pytest.approx(1.0 / truth["factor"].to_numpy(), rel=1e-12)
    hfq = adjust_prices(raw, events, "hfq")
    assert hfq["close"].to_numpy() == pytest.approx(market.hfq(symbol)["close"].to_numpy(), rel=1e-12)


def test_series_events_on_empty_and_tiny_input():
    rows, factor, reference = series_events(np.array([1.0]), np.array([np.nan]))
    assert len(rows) == len(factor) == len(reference) == 0
