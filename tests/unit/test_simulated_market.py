"""SimulatedMarket and SimulatedProvider: determinism, bar invariants, limits, corporate-action arithmetic,
the provisional bar of an open session, fault injection and latency.

Expected values are recomputed here from raw bars (ref = close - change, factor = ref / previous close), never
taken from the adjustment code under test.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.domain.schema import BARS, SECURITIES
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError, ProviderSchemaError, ProviderUnavailableError
from quantdb_lab.providers.base import Provider
from quantdb_lab.providers.simulated import Faults, SimulatedMarket, SimulatedProvider

NOW = datetime(2024, 6, 14, 16, 0)  # a Friday after the close: every bar up to it is final
EARLY, LATE = date(1990, 1, 1), date(2030, 1, 1)


def at(moment: datetime) -> FixedClock:
    return FixedClock(moment)


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=7, n_stocks=60, clock=at(NOW))


@pytest.fixture(scope="module")
def stocks(market: SimulatedMarket) -> list[str]:
    return market.symbols("stock")


def board_limit(symbol: str, day: date) -> float:
    """Independent statement of the rules: main 10%, ChiNext 20% from 2020-08-24 (10% before), STAR 20%,
    Beijing 30%, no limits before 1996-12-16."""
    if day < date(1996, 12, 16):
        return np.inf
    board = parse_symbol(symbol).board
    if board == "chinext":
        return 0.20 if day >= date(2020, 8, 24) else 0.10
    return {"main": 0.10, "star": 0.20, "beijing": 0.30, "etf": 0.10}.get(board, np.inf)


def implied_factors(bars: pl.DataFrame) -> pl.DataFrame:
    return bars.with_columns(
        ref=pl.col("close") - pl.col("change"), prev=pl.col("close").shift(1)
    ).with_columns(factor=pl.col("ref") / pl.col("prev"))


# -- determinism ---------------------------------------------------------------------------------------


def test_two_instances_with_one_seed_agree_and_another_seed_differs() -> None:
    a, b = SimulatedMarket(seed=7, clock=at(NOW)), SimulatedMarket(seed=7, clock=at(NOW))
    assert a.symbols() == b.symbols()
    for symbol in ["600519.SH", "000001.SH", "510300.SH", "00700.HK", a.symbols("stock")[100]]:
        assert a.bars(symbol).equals(b.bars(symbol))
    other = SimulatedMarket(seed=8, clock=at(NOW))
    assert not other.bars("600519.SH").equals(a.bars("600519.SH"))


def test_bars_do_not_depend_on_range_or_request_order(stocks: list[str]) -> None:
    first, second = stocks[3], stocks[17]
    one = SimulatedMarket(seed=7, n_stocks=60, clock=at(NOW))
    part = one.bars(first, date(2022, 3, 1), date(2022, 9, 30))
    two = SimulatedMarket(seed=7, n_stocks=60, clock=at(NOW))
    two.bars(second)
    full = two.bars(first)
    assert part.equals(full.filter(pl.col("date").is_between(date(2022, 3, 1), date(2022, 9, 30))))


def test_the_clock_only_decides_visibility(market: SimulatedMarket) -> None:
    earlier = market.bars("600519.SH", now=datetime(2020, 1, 10, 16, 0))
    later = market.bars("600519.SH")
    assert earlier["date"].max() == date(2020, 1, 10)
    assert later.head(earlier.height).equals(earlier)


def test_future_listings_are_invisible(market: SimulatedMarket) -> None:
    securities = market.securities(now=datetime(2010, 1, 4, 16, 0))
    assert securities["list_date"].max() <= date(2010, 1, 4)
    assert "688981.SH" not in securities["symbol"].to_list()
    assert market.bars("688981.SH", now=datetime(2010, 1, 4, 16, 0)).is_empty()


# -- bar invariants ----------------------------------------------------------------------------------


def test_ohlc_volume_and_tick_invariants(market: SimulatedMarket, stocks: list[str]) -> None:
    for symbol in stocks + market.symbols("index") + market.symbols("hk"):
        bars = market.bars(symbol)
        assert bars.schema == pl.Schema(BARS)
        assert bars["date"].is_sorted() and bars["date"].n_unique() == bars.height
        o, h, l, c = (bars[name].to_numpy() for name in ("open", "high", "low", "close"))
        assert (l > 0).all(), symbol
        assert (l <= np.minimum(o, c) + 1e-9).all() and (h >= np.maximum(o, c) - 1e-9).all(), symbol
        assert (bars["volume"] > 0).all() and (bars["amount"] > 0).all(), symbol
        assert bars["turnover"].is_between(0.0, 1.0, closed="right").all(), symbol
        assert np.allclose(np.round(c * 100) / 100, c, atol=1e-9), symbol


def test_amount_is_volume_times_a_price_inside_the_bar(market: SimulatedMarket, stocks: list[str]) -> None:
    bars = market.bars(stocks[5])
    vwap = bars["amount"] / bars["volume"]
    assert (vwap >= bars["low"] - 0.01).all() and (vwap <= bars["high"] + 0.01).all()


def test_daily_moves_respect_board_limits(market: SimulatedMarket, stocks: list[str]) -> None:
    hit = 0
    for symbol in stocks:
        bars = implied_factors(market.bars(symbol)).slice(1)  # the listing day has no limit
        profile = market.profile(symbol)
        for day, close, ref in bars.select("date", "close", "ref").iter_rows():
            limit = board_limit(symbol, day)
            if profile.st_since is not None and day >= profile.st_since and limit < np.inf:
                limit = 0.05
            if limit < np.inf:
                assert abs(close - ref) <= ref * limit + 0.005 + 1e-9, (symbol, day, close, ref)
                hit += abs(close - ref) >= ref * limit - 0.005
    assert hit > 50  # limits are actually reached


def test_st_stocks_exist_and_are_flagged(market: SimulatedMarket) -> None:
    big = SimulatedMarket(seed=7, clock=at(NOW))
    securities = big.securities()
    st = securities.filter("is_st")
    assert st.height >= 3
    assert st["name"].str.contains(r"^\*?ST ").all()  # "*ST ": a delisting risk warning (simulated.pit)
    assert set(st["board"]) == {"main"}


def test_limit_streaks_close_at_the_limit_day_after_day(market: SimulatedMarket) -> None:
    found = market.find_limit_streak(min_length=3, before=NOW.date())
    assert found is not None
    symbol, first, last = found
    bars = implied_factors(market.bars(symbol, first, last))
    assert bars.height >= 3
    st_since = market.profile(symbol).st_since
    for day, close, ref in bars.select("date", "close", "ref").iter_rows():
        limit = 0.05 if st_since is not None and day >= st_since else board_limit(symbol, day)
        assert close >= ref * (1 + limit) - 0.005 - 1e-9, (symbol, day)


# -- listing and suspensions -------------------------------------------------------------------------


def test_no_bars_before_listing_and_none_in_suspensions(market: SimulatedMarket, stocks: list[str]) -> None:
    calendar = TradingCalendar.xshg()
    listed = dict(market.securities().select("symbol", "list_date").iter_rows())
    seen_suspension = False
    for symbol in stocks:
        bars = market.bars(symbol)
        if symbol not in listed:  # lists after NOW
            assert bars.is_empty() and market.listing_date(symbol) > NOW.date()
            continue
        assert bars["date"].min() == listed[symbol]
        dates = set(bars["date"].to_list())
        suspended = set()
        for first, last in market.suspensions(symbol):
            suspended |= set(calendar.sessions(first, min(last, NOW.date())))
        assert not dates & suspended, symbol
        expected = set(calendar.sessions(listed[symbol], NOW.date())) - suspended
        assert dates == expected, symbol
        seen_suspension |= bool(suspended)
    assert seen_suspension


def test_unknown_symbol_has_no_bars(market: SimulatedMarket) -> None:
    missing = next(s for s in ("600001.SH", "600002.SH", "600003.SH") if s not in market.symbols())
    assert market.bars(missing).is_empty() and market.bars(missing).schema == pl.Schema(BARS)


# -- corporate actions -------------------------------------------------------------------------------


def test_ex_date_arithmetic_matches_the_actions_table(market: SimulatedMarket, stocks: list[str]) -> None:
    checked = 0
    for symbol in stocks:
        bars = implied_factors(market.bars(symbol)).slice(1)
        actions = market.actions(symbol)
        jumps = bars.filter((pl.col("factor") - 1).abs() > 1e-9)
        assert jumps["date"].to_list() == actions["ex_date"].to_list(), symbol
        assert np.allclose(jumps["factor"].to_numpy(), actions["factor"].to_numpy(), rtol=1e-9)
        # ex-rights reference: (previous close - cash + rights price x ratio) / (split ratio + rights ratio),
        # rounded to the tick, with the amounts of the dividend table
        last = actions["ex_date"].max() or date.min
        table = market.corporate_actions(symbol).filter(pl.col("ex_date") <= last)  # announced, not ex yet: out
        assert table["ex_date"].to_list() == actions["ex_date"].to_list()
        assert np.allclose(table["cash"].to_numpy(), actions["cash_dividend"].to_numpy())
        rights = table["rights_ratio"] * table["rights_price"].fill_null(0.0)
        split = 1.0 + table["bonus"] + table["transfer"]
        assert np.allclose(split.to_numpy(), actions["split_ratio"].to_numpy())
        expected = (((jumps["prev"] - table["cash"] + rights) / (split + table["rights_ratio"]) * 100).round(6) + 0.5).floor() / 100
        assert np.allclose(jumps["ref"].to_numpy(), expected.to_numpy(), atol=1e-9)
        pct = bars["change"] / bars["ref"]
        assert ((bars["pct_change"] - pct).abs() <= 5e-5 + 1e-12).all(), symbol
        checked += actions.height
    assert checked > 20


def test_hfq_is_continuous_and_qfq_ends_at_the_raw_price(market: SimulatedMarket) -> None:
    provider = SimulatedProvider(market, clock=at(NOW))
    symbol = parse_symbol("600519.SH")
    raw = implied_factors(provider.fetch_daily_bars(symbol, EARLY, LATE))
    hfq = provider.fetch_daily_bars(symbol, EARLY, LATE, adjust="hfq")
    qfq = provider.fetch_daily_bars(symbol, EARLY, LATE, adjust="qfq")
    cumulative = np.cumprod(1.0 / raw["factor"].fill_null(1.0).to_numpy())
    assert market.actions(symbol).height > 5
    # served hfq is Eastmoney's affine map of the dividend table, rounded to the tick: price x (1 + shares) + cash
    # for each earlier action, the latest first (computed here row by row), not raw x cumulative multiplier
    table = market.corporate_actions(symbol)
    affine = []
    for day, close in raw.select("date", "close").iter_rows():
        price = close
        for row in reversed(table.filter(pl.col("ex_date") <= day).rows(named=True)):
            rights = row["rights_ratio"] * (row["rights_price"] or 0.0)
            price = price * (1 + row["bonus"] + row["transfer"] + row["rights_ratio"]) + row["cash"] - rights
        affine.append(np.floor(round(price * 100, 6) + 0.5) / 100)  # half up, in decimal
    assert hfq["close"].to_numpy() == pytest.approx(np.array(affine), abs=1e-9)
    drift = hfq["close"].to_numpy() / (raw["close"].to_numpy() * cumulative)
    assert drift.max() - drift.min() > 0.01  # so hfq_close / close is no factor
    exact = market.hfq(symbol)
    ratio = exact["close"].to_numpy()[1:] / exact["close"].to_numpy()[:-1]
    assert np.allclose(ratio, (raw["close"] / raw["ref"]).to_numpy()[1:], rtol=1e-12)  # no jump at ex-dates
    assert qfq.row(-1, named=True)["close"] == raw.row(-1, named=True)["close"]
    before = raw.filter(pl.col("date") < market.actions(symbol)["ex_date"][0])
    assert exact.head(before.height)["close"].equals(before["close"])


def test_a_dividend_after_the_first_fetch_changes_qfq_but_not_past_hfq() -> None:
    day = date(2024, 3, 1)
    market = SimulatedMarket(seed=7, n_stocks=120, clock=at(datetime(2024, 3, 1, 16, 0)))
    symbol = market.symbols_with_action_between(day + timedelta(days=1), day + timedelta(days=60))[0]
    ex_date = next(d for d in market.ex_dates(symbol) if d > day)
    assert market.next_action_after(day, symbol=symbol) == (symbol, ex_date)
    provider = SimulatedProvider(market, clock=(clock := at(datetime(2024, 3, 1, 16, 0))))
    sym = parse_symbol(symbol)
    hfq_before = provider.fetch_daily_bars(sym, EARLY, LATE, adjust="hfq")
    qfq_before = provider.fetch_daily_bars(sym, EARLY, LATE, adjust="qfq")
    assert market.actions(symbol, now=clock.now())["ex_date"].max() is None or (
        market.actions(symbol, now=clock.now())["ex_date"].max() <= day
    )
    clock.current = datetime.combine(ex_date + timedelta(days=3), datetime.min.time()).replace(
        hour=16, tzinfo=clock.current.tzinfo
    )
    hfq_after = provider.fetch_daily_bars(sym, EARLY, LATE, adjust="hfq")
    qfq_after = provider.fetch_daily_bars(sym, EARLY, LATE, adjust="qfq")
    assert hfq_after.head(hfq_before.height).equals(hfq_before)  # back-adjusted history is append-only
    assert not qfq_after.head(qfq_before.height)["close"].equals(qfq_before["close"])
    assert market.actions(symbol, now=clock.now())["ex_date"].max() == ex_date


# -- open session --------------------------------------------------------------------------------------


def test_provisional_bar_during_the_session_becomes_final_after_settlement(market: SimulatedMarket) -> None:
    session = date(2024, 6, 14)
    symbol = "600519.SH"
    final = market.bars(symbol, session, session).row(0, named=True)

    def bar_at(hour: int, minute: int) -> dict | None:
        frame = market.bars(symbol, session, session, now=datetime(2024, 6, 14, hour, minute))
        return frame.row(0, named=True) if frame.height else None

    assert bar_at(9, 0) is None  # before the open today's session is not visible yet
    morning = bar_at(10, 30)
    assert morning["open"] == final["open"]
    assert final["low"] <= morning["low"] <= morning["close"] <= morning["high"] <= final["high"]
    assert 0 < morning["volume"] < final["volume"] and morning["amount"] < final["amount"]
    path = market.intraday_path(symbol, session, now=datetime(2024, 6, 14, 10, 30))
    assert path.height == 60 and path["close"][-1] == morning["close"]
    afternoon = bar_at(14, 0)
    assert morning["volume"] < afternoon["volume"] < final["volume"]
    after_close = bar_at(15, 10)  # closing price known, volume not settled yet
    assert after_close["close"] == final["close"] and after_close["volume"] < final["volume"]
    assert bar_at(15, 31) == final


def test_intraday_path_matches_the_daily_bar(market: SimulatedMarket) -> None:
    session = date(2024, 6, 13)
    daily = market.bars("000300.SH", session, session).row(0, named=True)
    path = market.intraday_path("000300.SH", session)
    assert path.height == 240
    assert path["open"][0] == daily["open"] and path["close"][-1] == daily["close"]
    assert path["high"].max() == daily["high"] and path["low"].min() == daily["low"]
    assert path["volume"].sum() == daily["volume"]


# -- indices, ETFs and reference data --------------------------------------------------------------


def test_etf_tracks_its_index_and_index_members_are_listed(market: SimulatedMarket) -> None:
    start = date(2015, 1, 1)
    etf = market.bars("510300.SH", start).select("date", etf="close")
    index = market.bars("000300.SH", start).select("date", index="close")
    joined = etf.join(index, on="date").with_columns(pl.all().exclude("date").pct_change()).drop_nulls()
    assert np.corrcoef(joined["etf"], joined["index"])[0, 1] > 0.95
    listed = set(market.securities()["symbol"])
    for index_symbol in ("000001.SH", "000300.SH", "000905.SH", "399001.SZ", "399006.SZ"):
        members = market.index_members(index_symbol)
        assert members and set(members) <= listed, index_symbol
    assert set(market.index_members("000300.SH")).isdisjoint(market.index_members("000905.SH"))


def test_securities_and_sectors(market: SimulatedMarket) -> None:
    securities = market.securities()
    boards = set(securities["board"])
    assert {"main", "chinext", "star", "beijing", "index", "etf", "hk"} <= boards
    assert securities["name"].str.contains("Sim ").all()  # says it is synthetic (ST names: "ST Sim ...")
    industries = set(securities.filter(pl.col("board") == "main")["industry"])
    assert len(industries) >= 5
    for industry in industries:
        assert all(parse_symbol(s).kind == "stock" for s in market.sector_members(industry))
    with pytest.raises(InvalidRequestError):
        market.sector_members("Astrology")


# -- provider ----------------------------------------------------------------------------------------


def test_provider_protocol_and_reference_data(market: SimulatedMarket) -> None:
    provider = SimulatedProvider(market, clock=at(NOW))
    assert isinstance(provider, Provider)
    assert provider.name == "simulated" and provider.synthetic is True
    assert provider.fetch_securities().schema == pl.Schema(SECURITIES)
    dates = provider.fetch_trade_dates()
    assert dates == sorted(dates) and dates[0] == date(1990, 12, 19) and dates[-1] == date(2024, 12, 31)
    assert {provider.host_family(parse_symbol(s)) for s in ("600519", "000300.SH", "00700.HK")} == {"local"}
    with pytest.raises(InvalidRequestError):
        provider.fetch_daily_bars(parse_symbol("600519"), EARLY, LATE, adjust="bfq")
    bars = provider.fetch_daily_bars(parse_symbol("600519"), date(2024, 1, 1), date(2024, 1, 31))
    assert bars.schema == pl.Schema(BARS) and bars["date"].is_between(date(2024, 1, 1), date(2024, 1, 31)).all()


def test_faults_can_be_toggled_at_runtime(market: SimulatedMarket) -> None:
    provider = SimulatedProvider(market, clock=at(NOW))
    sym = parse_symbol("600519.SH")
    provider.faults.down = True
    with pytest.raises(ProviderUnavailableError) as raised:
        provider.fetch_trade_dates()
    assert raised.value.retryable and "RemoteDisconnected" in str(raised.value)
    provider.faults.down = False
    assert provider.fetch_daily_bars(sym, EARLY, LATE).height > 0
    provider.faults.permanent_symbols.add("600519")
    with pytest.raises(ProviderUnavailableError) as raised:
        provider.fetch_daily_bars(sym, EARLY, LATE)
    assert not raised.value.retryable
    provider.faults.permanent_symbols.clear()
    provider.faults.fail_n_times("sh600519", 2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailableError):
            provider.fetch_daily_bars(sym, EARLY, LATE)
    assert provider.fetch_daily_bars(sym, EARLY, LATE).height > 0
    provider.faults.schema_drift = True
    with pytest.raises(ProviderSchemaError) as drift:
        provider.fetch_daily_bars(sym, EARLY, LATE)
    assert "amount" not in drift.value.columns
    provider.faults.clear()
    assert provider.calls["fetch_daily_bars"] == 6 and provider.calls["total"] == 7  # failures count too
    provider.reset_counts()
    assert provider.calls["total"] == 0


def test_transient_faults_are_deterministic_and_retries_succeed(market: SimulatedMarket) -> None:
    def outcomes(provider: SimulatedProvider) -> list[bool]:
        out = []
        for symbol in market.symbols("stock")[:20]:
            for _attempt in range(50):
                try:
                    provider.fetch_daily_bars(parse_symbol(symbol), date(2024, 1, 1), date(2024, 1, 10))
                    out.append(True)
                    break
                except ProviderUnavailableError as error:
                    assert error.retryable
                    out.append(False)
        return out

    first = outcomes(SimulatedProvider(market, faults=Faults(transient_rate=0.5, seed=3), clock=at(NOW)))
    second = outcomes(SimulatedProvider(market, faults=Faults(transient_rate=0.5, seed=3), clock=at(NOW)))
    assert first == second
    assert first.count(True) == 20 and first.count(False) > 5


def test_latency_is_slept_on_the_injected_clock(market: SimulatedMarket) -> None:
    clock = at(NOW)
    provider = SimulatedProvider(market, latency=0.25, clock=clock)
    for _ in range(4):
        provider.fetch_daily_bars(parse_symbol("000001.SZ"), date(2024, 1, 1), date(2024, 1, 31))
    assert clock.monotonic() == pytest.approx(1.0)
    assert clock.now() == at(NOW).now() + timedelta(seconds=1)


def test_no_cjk_characters_in_the_simulated_package() -> None:
    import quantdb_lab.providers.simulated as package

    cjk = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
    for path in Path(package.__file__).parent.glob("*.py"):
        assert not cjk.search(path.read_text(encoding="utf-8")), path


@pytest.mark.timeout(60)
def test_a_market_larger_than_the_main_board_still_builds_with_distinct_delisted_codes():
    # the delisted were drawn until a twelfth of the market was found among the free main-board codes: a universe
    # of 15,200 (bench_portfolio --sources at 5,000) leaves fewer free, and the draw never ended
    market = SimulatedMarket(seed=11, n_stocks=15_200)
    listed, gone = set(market.symbols("stock")), set(market.symbols("delisted"))
    assert gone and not listed & gone
