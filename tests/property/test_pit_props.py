"""No value announced after as_of is ever returned (issue 21), for every point-in-time dataset: the security
master's events, index snapshots, financial statements (restatements included), the express / results and
forecast announcements (and the preliminary figures fundamentals takes from them) and the valuation panel.

A collector Lab walks a small simulated market from 2008 to 2024, capturing index lists each half year and the
statements three times (so later restatements are stored as new versions); hypothesis then draws days and
checks what a backtesting Lab with that ``as_of`` sees against the simulated market's ground truth."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.domain.modes import BACKTESTING
from quantdb_lab.errors import EmptyResultError, PointInTimeUnavailableError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider
from quantdb_lab.providers.simulated.pit import statements

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")
MARKET = SimulatedMarket(seed=11, n_stocks=40)
CAPTURES = [date(y, m, 28) for y in range(2008, 2025) for m in (1, 7)]
STATEMENT_FETCHES = (date(2012, 3, 28), date(2018, 7, 28), date(2024, 12, 31))
END = date(2024, 12, 31)
days = st.dates(date(2006, 1, 1), END)


def moment(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(hour=16, tzinfo=EXCHANGE_TZ)


@lru_cache(maxsize=1)
def collector() -> Lab:
    clock = FixedClock(moment(CAPTURES[0]))
    lab = Lab(Path(tempfile.mkdtemp()) / "cache", provider=SimulatedProvider(MARKET, faults=Faults(), clock=clock),
              clock=clock)  # fmt: skip
    stocks = MARKET.symbols("stock") + MARKET.symbols("delisted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for day in sorted({*CAPTURES, *STATEMENT_FETCHES}):
            clock.advance((moment(day) - clock.now()).total_seconds())
            if day in CAPTURES:
                lab.universe("000300.SH")
                with contextlib.suppress(EmptyResultError):  # no stock under ST that day
                    lab.read("st_board")
            if day in STATEMENT_FETCHES:
                lab.fundamentals(stocks, history=True)
                lab.read("earnings_releases", start=date(1995, 1, 1))
                lab.read("earnings_forecasts", start=date(1995, 1, 1))
        lab.securities()
        lab.read("security_events")
        lab.read("earnings_releases", start=date(1995, 1, 1))
        lab.read("earnings_forecasts", start=date(1995, 1, 1))
    return lab


def backtest(day: date) -> Lab:
    return collector().using(BACKTESTING.with_(as_of=day, on_quality_fail="ignore"))


def truth_events(day: date) -> pl.DataFrame:
    return MARKET.security_events(now=moment(END)).filter(pl.col("date") <= day)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days)
def test_the_security_master_as_of_a_day_knows_nothing_of_later_days(day):
    master = backtest(day).securities()
    stocks = master.filter(pl.col("symbol").is_in(MARKET.symbols("stock") + MARKET.symbols("delisted")))
    assert stocks["list_date"].max() is None or stocks["list_date"].max() <= day
    assert stocks["st_since"].drop_nulls().max() is None or stocks["st_since"].drop_nulls().max() <= day
    events = truth_events(day)
    gone = set(events.filter(pl.col("event") == "delisted")["symbol"])
    assert not gone & set(stocks["symbol"])
    latest = events.sort("date").group_by("symbol").agg(pl.col("name").last())
    names = dict(latest.iter_rows())
    for symbol, name in stocks.select("symbol", "name").iter_rows():
        assert name == names[symbol]  # the name of the day, never a later rename or ST
    st_state = events.filter(pl.col("event").is_in(["st", "star_st", "st_removed"])).sort("date").group_by(
        "symbol").agg(pl.col("event").last().is_in(["st", "star_st"]).alias("st"))
    truth_st = {s for s, st_now in st_state.iter_rows() if st_now}
    assert set(stocks.filter(pl.col("is_st"))["symbol"]) == truth_st & set(stocks["symbol"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days)
def test_the_st_board_as_of_a_day_is_the_last_capture_by_then(day):
    captured = [c for c in CAPTURES if c <= day]
    try:
        got = backtest(day).read("st_board", start=date(2005, 1, 4))
    except EmptyResultError:  # nothing captured by then, or no stock under ST on every capture
        assert all(MARKET.st_board(MARKET.visibility(moment(c)).latest).is_empty() for c in captured)
        return
    assert got["date"].max() <= day
    last = got.filter(pl.col("date") == got["date"].max())
    assert last["date"].max() <= captured[-1]
    truth = MARKET.st_board(last["date"].max())
    assert last.select("symbol", "name").sort("symbol").rows() == truth.select("symbol", "name").rows()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days)
def test_index_members_as_of_a_day_are_the_last_list_dated_by_then(day):
    # A snapshot is dated with the session it was captured after (docs/point-in-time.md): one captured on a
    # weekend or holiday is that session's list, and a day between the two holds it.
    captured = [c for c in CAPTURES if MARKET.visibility(moment(c)).latest <= day]
    if not captured:
        with pytest.raises(PointInTimeUnavailableError):
            backtest(day).universe("000300.SH")
        return
    got = backtest(day).universe("000300.SH")
    assert got == MARKET.index_members("000300.SH", now=moment(captured[-1]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days)
def test_fundamentals_as_of_a_day_were_all_served_by_then(day):
    lab = backtest(day)
    stocks = MARKET.symbols("stock")[:15] + MARKET.symbols("delisted")
    try:
        got = lab.fundamentals(stocks, ["net_profit", "revenue"], history=True)
    except Exception as exc:  # nothing announced yet
        assert "no financial statements" in str(exc)
        return
    assert got["known_at"].max() <= day and got["announcement_date"].max() <= day
    for symbol, period, known, profit in got.select("symbol", "report_period", "known_at", "net_profit").iter_rows():
        served = statements(MARKET, symbol, known).filter(pl.col("report_period") == period)
        assert served["net_profit"].item() == pytest.approx(profit)  # the upstream served this figure on known_at


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(date(2013, 1, 1), END))
def test_the_valuation_panel_uses_only_reports_announced_by_each_session(day):
    lab = backtest(day)
    symbols = MARKET.symbols("stock")[:4]
    panel = lab.valuation(symbols, start=day - timedelta(days=20), end=day)
    assert panel["date"].max() <= day
    announced = pl.concat([MARKET.statements(s, now=moment(END)) for s in symbols]).select(
        "symbol", "report_period", "announcement_date")
    joined = panel.drop_nulls("report_period").join(announced, on=["symbol", "report_period"], how="left")
    assert (joined["announcement_date"] <= joined["date"]).all()


RELEASE_KEYS = ["symbol", "report_period", "known_at"]


@lru_cache(maxsize=1)
def truth_releases() -> tuple[pl.DataFrame, pl.DataFrame]:
    return MARKET.earnings_releases(now=moment(END))


def rows(frame: pl.DataFrame, columns: list[str]) -> set[tuple]:
    return set(frame.select(columns).iter_rows())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days)
def test_express_results_and_forecasts_as_of_a_day_are_those_announced_by_then(day):
    lab = backtest(day)
    for name, truth, extra in (("earnings_releases", truth_releases()[0], ["kind"]),
                               ("earnings_forecasts", truth_releases()[1], ["indicator"])):  # fmt: skip
        got = lab.read(name, start=date(1995, 1, 1))
        assert got.is_empty() or got["known_at"].max() <= day
        assert rows(got, RELEASE_KEYS + extra) == rows(truth.filter(pl.col("known_at") <= day), RELEASE_KEYS + extra)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(date(2009, 1, 1), END))
def test_preliminary_fundamentals_use_only_figures_announced_by_then_and_ahead_of_the_statements(day):
    lab = backtest(day)
    stocks = MARKET.symbols("stock")[:15]
    try:
        plain = lab.fundamentals(stocks, ["eps", "parent_net_profit"])
    except Exception as exc:  # nothing announced yet
        assert "no financial statements" in str(exc)
        return
    got = lab.fundamentals(stocks, ["eps", "parent_net_profit"], preliminary=True)
    assert got["known_at"].max() <= day and set(got["symbol"]) == set(plain["symbol"])
    reported = dict(plain.select("symbol", "report_period").iter_rows())
    early = got.filter(pl.col("source") != "statement")
    releases, forecasts = truth_releases()
    announced = rows(releases.filter(pl.col("known_at") <= day), [*RELEASE_KEYS, "kind"]) | {
        (*r, "forecast") for r in rows(forecasts.filter(pl.col("known_at") <= day), RELEASE_KEYS)}
    for symbol, period, known, source in early.select("symbol", "report_period", "known_at", "source").iter_rows():
        assert period > reported[symbol]
        assert (symbol, period, known, source) in announced
    assert rows(got.filter(pl.col("source") == "statement"), ["symbol", "report_period"]) <= rows(
        plain, ["symbol", "report_period"])
