"""Point in time (issue 21): the market, index members and fundamentals as they were known on a day.

Expected values come from the simulated market's profiles and statements (its ground truth), never from the
Lab's point-in-time code."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.errors import LookAheadError, PointInTimeUnavailableError
from quantdb_lab.lab import Lab
from quantdb_lab.providers.simulated import Faults, SimulatedProvider
from tests.support.sim import MARKET, at, make_lab

pytestmark = pytest.mark.filterwarnings("ignore::quantdb_lab.errors.SyntheticDataWarning")


STOCKS = set(MARKET.symbols("stock") + MARKET.symbols("delisted"))


def stocks_of(frame: pl.DataFrame) -> set[str]:
    return set(frame["symbol"]) & STOCKS


def alive_on(day: date) -> set[str]:
    """Stocks listed on ``day`` and not yet delisted, from the profiles."""
    out = set()
    for symbol in MARKET.symbols("stock") + MARKET.symbols("delisted"):
        profile = MARKET.profile(symbol)
        if MARKET.listing_date(symbol) <= day and (profile.delist_date is None or profile.delist_date > day):
            out.add(symbol)
    return out


def test_the_market_on_a_past_day_includes_the_stocks_delisted_since_and_not_those_listed_later(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    day = date(2012, 6, 29)
    master = lab.securities(as_of=day)
    assert stocks_of(master) == alive_on(day)
    gone = set(MARKET.symbols("delisted")) & alive_on(day)
    assert gone and gone <= set(master["symbol"])  # survivorship-free
    assert not gone & set(lab.securities()["symbol"])  # today's list has none of them
    assert master["list_date"].max() <= day


def test_st_status_and_names_are_those_of_the_day(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    st = next(s for s in MARKET.symbols("stock") if MARKET.profile(s).st_since and MARKET.profile(s).st_since.year > 2012)
    since = MARKET.profile(st).st_since
    before, after = lab.securities(as_of=since - timedelta(days=1)), lab.securities(as_of=since + timedelta(days=3))
    row = lambda frame: frame.filter(pl.col("symbol") == st).row(0, named=True)  # noqa: E731
    assert not row(before)["is_st"] and not row(before)["name"].startswith("ST")
    assert row(after)["is_st"] and row(after)["st_since"] == since and row(after)["name"] == "ST " + MARKET.profile(st).name
    renamed = MARKET.security_events().filter(pl.col("event") == "renamed").row(0, named=True)
    old = lab.securities(as_of=renamed["date"] - timedelta(days=1)).filter(pl.col("symbol") == renamed["symbol"])
    assert old["name"].item() != renamed["name"] and old["name"].item().endswith("(old)")


def test_a_backtesting_lab_chooses_its_universe_from_its_own_day(tmp_path):
    lab, _, clock = make_lab(tmp_path)
    day = date(2012, 6, 29)
    backtest = Lab(tmp_path / "cache", provider=lab.provider, clock=clock, mode=lab.mode.with_(as_of=day, name="bt"))
    assert set(backtest.universe_members("market")) == alive_on(day)  # no Beijing listing before 2021
    assert stocks_of(backtest.securities()) == alive_on(day)
    with pytest.raises(LookAheadError):
        backtest.securities(as_of=date(2013, 1, 4))


def test_csi300_as_of_an_early_date_holds_that_dates_members_including_later_delisted(tmp_path):
    clock = FixedClock(at("2010-06-30 16:00"))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
    early = lab.universe("000300.SH")  # the collector captures today's list
    truth = MARKET.index_members("000300.SH", now=at("2010-06-30 16:00"))
    assert early == truth and set(truth) & set(MARKET.symbols("delisted"))
    clock.advance(timedelta(days=365 * 15).total_seconds())
    today = lab.universe("000300.SH")
    assert today == MARKET.index_members("000300.SH", now=clock.now()) and today != early
    later = lab.using(lab.mode.with_(as_of=date(2012, 3, 1)))
    assert later.universe("000300.SH") == early  # the latest snapshot on or before the day
    assert later.universe_members("000300.SH") == early
    asked = provider.calls["fetch_index_snapshot"]
    with pytest.raises(PointInTimeUnavailableError):  # before the first snapshot: said, never back-filled
        lab.universe("000300.SH", as_of=date(2010, 6, 1))
    later.universe("000300.SH", as_of=date(2011, 6, 1))
    assert provider.calls["fetch_index_snapshot"] == asked  # the upstream keeps today's list only: never asked for a past day


def test_fundamentals_as_of_a_day_are_the_latest_report_announced_by_then(tmp_path):
    lab, _, _ = make_lab(tmp_path)  # first fetched in 2025: reports revised since are shown from their revision
    day = date(2020, 5, 1)
    got = lab.fundamentals(["600519.SH", "000001.SZ"], as_of=day)
    for symbol in ("600519.SH", "000001.SZ"):
        then = MARKET.statements(symbol, now=at("2020-05-01 16:00"))
        now = MARKET.statements(symbol, now=at("2025-06-06 16:00"))
        revised_later = set(now.filter(pl.col("update_date") > day)["report_period"])
        truth = then.filter(~pl.col("report_period").is_in(list(revised_later))).sort("report_period")
        latest = truth.row(-1, named=True)
        row = got.filter(pl.col("symbol") == symbol).row(0, named=True)
        assert row["report_period"] == latest["report_period"] and row["announcement_date"] <= day
        period = latest["report_period"]
        year_ago = truth.filter(pl.col("report_period") == date(period.year - 1, period.month, period.day))
        assert row["revenue_growth"] == pytest.approx(latest["revenue"] / year_ago["revenue"].item() - 1.0)
        assert row["roe"] == pytest.approx(latest["parent_net_profit"] / latest["parent_equity"])
        assert row["eps"] == pytest.approx(latest["basic_eps"])


def test_a_restatement_is_a_new_version_and_never_changes_what_an_earlier_day_saw(tmp_path):
    symbol, period, announced, updated = _a_restatement()
    clock = FixedClock(at(f"{announced + timedelta(days=5)} 16:00"))
    provider = SimulatedProvider(MARKET, faults=Faults(), clock=clock)
    lab = Lab(tmp_path / "cache", provider=provider, clock=clock)
    first = lab.fundamentals(symbol, ["net_profit"], history=True).filter(pl.col("report_period") == period)
    clock.advance((updated - clock.now().date() + timedelta(days=10)).total_seconds())
    lab.fundamentals(symbol, ["net_profit"], history=True)  # the later fetch notices the new figure
    stored = lab.read("financials", symbol).filter(pl.col("report_period") == period)
    assert stored.height == 2 and stored["known_at"].min() == announced and stored["known_at"].max() >= updated
    before = lab.fundamentals(symbol, ["net_profit"], as_of=updated - timedelta(days=1), history=True)
    after = lab.fundamentals(symbol, ["net_profit"], history=True)
    original = MARKET.statements(symbol, now=at(f"{announced} 16:00")).filter(pl.col("report_period") == period)
    restated = MARKET.statements(symbol, now=clock.now()).filter(pl.col("report_period") == period)
    pick = lambda frame: frame.filter(pl.col("report_period") == period)["net_profit"].item()  # noqa: E731
    assert pick(before) == pytest.approx(original["net_profit"].item()) == pytest.approx(first["net_profit"].item())
    assert pick(after) == pytest.approx(restated["net_profit"].item()) != pytest.approx(pick(before))


def _a_restatement() -> tuple[str, date, date, date]:
    for symbol in MARKET.symbols("stock")[:80]:
        frame = MARKET.statements(symbol, now=at("2024-12-31 16:00"))
        hit = frame.filter((pl.col("update_date") > pl.col("announcement_date")) & (pl.col("update_date") < date(2024, 6, 1))
                           & (pl.col("announcement_date") > date(2012, 1, 1)))  # fmt: skip
        if hit.height:
            row = hit.row(0, named=True)
            return symbol, row["report_period"], row["announcement_date"], row["update_date"]
    raise AssertionError("the simulated market has no restatement")


def test_a_daily_fundamentals_panel_carries_each_report_from_its_announcement(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    panel = lab.fundamentals(["600519.SH"], ["eps"], start="2021-01-01", end="2021-12-31")
    truth = MARKET.statements("600519.SH", now=at("2021-12-31 16:00"))
    for day, eps in panel.select("date", "eps").iter_rows():
        known = truth.filter(pl.col("announcement_date") <= day).sort("report_period")
        assert eps == pytest.approx(known["basic_eps"][-1])


def test_securities_reads_are_warm_after_the_first(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.securities(as_of="2015-01-05")
        lab.securities(as_of="2016-01-05")
    assert provider.calls["fetch_security_events"] == 1


def test_the_ask_agents_universe_in_a_backtest_is_the_market_of_its_day(tmp_path):
    from types import SimpleNamespace

    from quantdb_lab.query.universe import Resolver

    lab, _, clock = make_lab(tmp_path)
    day = date(2012, 6, 29)
    backtest = lab.using(lab.mode.with_(as_of=day))
    universe = Resolver(backtest).universe(SimpleNamespace(last=day, universe="market"))
    gone = set(MARKET.symbols("delisted")) & alive_on(day)
    assert gone <= set(universe.symbols) and set(universe.symbols) == alive_on(day)


def test_quality_st_limits_in_a_backtest_come_from_the_stored_master_of_its_day(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    st = next(s for s in MARKET.symbols("stock") if MARKET.profile(s).st_since and MARKET.profile(s).st_since.year > 2012)
    since = MARKET.profile(st).st_since
    assert lab.using(lab.mode.with_(as_of=since)).known_securities() is None  # nothing stored: no fetch
    lab.securities(as_of=since)  # a research read stores the list and the events
    calls = dict(provider.calls)
    before = lab.using(lab.mode.with_(as_of=since - timedelta(days=1))).known_securities()
    after = lab.using(lab.mode.with_(as_of=since + timedelta(days=5))).known_securities()
    flag = lambda frame: frame.filter(pl.col("symbol") == st)["is_st"].item()  # noqa: E731
    assert not flag(before) and flag(after) and provider.calls == calls


def test_peers_of_a_backtest_are_taken_at_its_as_of_close():
    from quantdb_lab.domain.modes import BACKTESTING, RESEARCH
    from quantdb_lab.prefetch.peers import peers_moment

    now = at("2025-06-06 16:00")
    assert peers_moment(RESEARCH, now) == now
    assert peers_moment(BACKTESTING.with_(as_of=date(2012, 6, 29)), now) == at("2012-06-29 16:00")


def test_a_provider_without_listing_history_says_the_past_market_is_survivorship_biased(tmp_path):
    from quantdb_lab.errors import PartialDataWarning

    class NoHistory(SimulatedProvider):
        def fetchers(self):
            table = super().fetchers()
            del table["security_events"]
            return table

    lab, _, clock = make_lab(tmp_path)
    bare = Lab(tmp_path / "bare", provider=NoHistory(MARKET, faults=Faults(), clock=clock), clock=clock)
    with pytest.warns(PartialDataWarning, match="survivorship"):
        master = bare.securities(as_of="2012-06-29")
    assert stocks_of(master) == alive_on(date(2012, 6, 29)) - set(MARKET.symbols("delisted"))


def _independent_valuation(symbol: str, day: date, close: float) -> dict:
    """PE TTM, PB and market cap of ``symbol`` on ``day`` in plain Python from the simulated market's
    statements (first fetched in 2025: a row is known from its announcement, or its later revision)."""
    rows = MARKET.statements(symbol, now=at("2025-06-06 16:00")).to_dicts()
    for row in rows:
        row["known"] = max(row["announcement_date"], row["update_date"] or row["announcement_date"])
    seen = [r for r in rows if r["known"] <= day]
    head = max(seen, key=lambda r: (r["report_period"], r["known"]))
    by_period = {r["report_period"]: r for r in rows if r["known"] <= head["known"]}
    period = head["report_period"]
    if period.month == 12:
        ttm = head["parent_net_profit"]
    else:
        fy, ly = by_period.get(date(period.year - 1, 12, 31)), by_period.get(date(period.year - 1, period.month, period.day))
        ttm = head["parent_net_profit"] + fy["parent_net_profit"] - ly["parent_net_profit"] if fy and ly else None
    mv = close * head["share_capital"]
    return {"report_period": period, "total_mv": mv, "pb": mv / head["parent_equity"] if head["parent_equity"] > 0 else None,
            "pe_ttm": mv / ttm if ttm is not None and ttm > 0 else None}


def test_the_remembered_valuation_cross_section_matches_an_independent_per_stock_computation(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    symbols = ["600519.SH", "000001.SZ", *MARKET.symbols("stock")[:6]]
    first = lab.valuation(symbols, start="2023-01-01", end="2024-06-28")
    again = lab.valuation(symbols, start="2023-01-01", end="2024-06-28")  # served from the remembered heads
    assert again.equals(first)
    bars = lab.bars(symbols, start="2023-01-01", end="2024-06-28", adjust="")
    closes = {(s, d): c for s, d, c in bars.select("symbol", "date", "close").iter_rows()}
    checked = 0
    for symbol in symbols:
        for day in (date(2023, 3, 31), date(2023, 8, 31), date(2024, 4, 30), date(2024, 6, 28)):
            got = again.filter((pl.col("symbol") == symbol) & (pl.col("date") <= day)).sort("date").tail(1)
            if got.is_empty():
                continue
            row = got.row(0, named=True)
            want = _independent_valuation(symbol, row["date"], closes[(symbol, row["date"])])
            assert row["report_period"] == want["report_period"], (symbol, day)
            for field in ("total_mv", "pb", "pe_ttm"):
                assert row[field] == (pytest.approx(want[field]) if want[field] is not None else None), (symbol, day, field)
            checked += 1
    assert checked >= 20


def test_fundamentals_take_an_express_report_announced_before_the_full_statement(tmp_path):
    """Between an express report and its annual report the latest figures are the express's (the simulated
    express states the report's own figures, so the expected values are the report's, from the statements)."""
    from quantdb_lab.providers.simulated.pit import statements

    releases, _ = MARKET.earnings_releases(now=at("2025-06-06 16:00"))
    express = releases.filter((pl.col("kind") == "express") & (pl.col("known_at") > date(2015, 1, 1))).row(0, named=True)
    symbol, period = express["symbol"], express["report_period"]
    report = statements(MARKET, symbol, date(2030, 1, 1)).filter(pl.col("report_period") == period).row(0, named=True)
    day = express["known_at"] + timedelta(days=1)
    assert day < report["announcement_date"]
    lab, _, _ = make_lab(tmp_path)
    plain = lab.fundamentals(symbol, ["eps", "revenue", "parent_net_profit"], as_of=day)
    assert plain["report_period"].item() < period  # the statements know only earlier periods that day
    got = lab.fundamentals(symbol, ["eps", "revenue", "parent_net_profit", "total_assets"], as_of=day,
                           preliminary=True).row(0, named=True)  # fmt: skip
    assert (got["source"], got["report_period"], got["known_at"]) == ("express", period, express["known_at"])
    assert got["revenue"] == pytest.approx(report["revenue"])
    assert got["parent_net_profit"] == pytest.approx(report["parent_net_profit"])
    assert got["eps"] == pytest.approx(report["basic_eps"]) and got["total_assets"] is None
    after = lab.fundamentals(symbol, ["revenue"], as_of=report["announcement_date"], preliminary=True).row(0, named=True)
    assert (after["source"], after["report_period"]) == ("statement", period)


def test_the_panel_reads_valuation_fields_beside_bar_fields(tmp_path):
    """PB of the last session computed by hand from the simulated truth: raw close x the share capital of the
    latest report announced by then / its parent equity."""
    from quantdb_lab.providers.simulated.pit import statements

    lab, _, _ = make_lab(tmp_path)
    symbols = ["600519.SH", "000001.SZ"]
    panel = lab.panel(symbols, fields=["close", "volume", "pe_ttm", "pb"], start="2024-03-01", end="2024-06-28")
    assert panel.columns == ["date", "symbol", "close", "volume", "pe_ttm", "pb"]
    bars = lab.bars(symbols, start="2024-03-01", end="2024-06-28", adjust="")
    assert panel.height == bars.height and panel["pb"].null_count() == 0
    day = panel["date"].max()
    for symbol in symbols:
        report = (statements(MARKET, symbol, day).filter(pl.col("announcement_date") <= day)
                  .sort("report_period").row(-1, named=True))  # fmt: skip
        close = bars.filter((pl.col("symbol") == symbol) & (pl.col("date") == day))["close"].item()
        got = panel.filter((pl.col("symbol") == symbol) & (pl.col("date") == day))["pb"].item()
        assert got == pytest.approx(close * report["share_capital"] / report["parent_equity"])
    with pytest.raises(Exception, match="unknown fields"):
        lab.panel(symbols, fields=["pe_forward"], start="2024-03-01", end="2024-03-29")


def test_a_stocks_multimodal_view_carries_its_valuation_of_each_session(tmp_path):
    from quantdb_lab.providers.simulated.pit import statements

    lab, _, _ = make_lab(tmp_path)
    frame = lab.view("600519.SH", start="2024-03-01", end="2024-06-28", include=[])
    assert {"pe_ttm", "pb", "ps_ttm", "total_mv"} <= set(frame.columns)
    day = frame.drop_nulls("close")["date"].max()
    report = (statements(MARKET, "600519.SH", day).filter(pl.col("announcement_date") <= day)
              .sort("report_period").row(-1, named=True))  # fmt: skip
    close = lab.bars("600519.SH", start=day, end=day, adjust="")["close"].item()
    got = frame.filter(pl.col("date") == day).row(0, named=True)
    assert got["total_mv"] == pytest.approx(close * report["share_capital"])
    assert got["pb"] == pytest.approx(close * report["share_capital"] / report["parent_equity"])
