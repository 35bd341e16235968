"""lab.view on the simulated market: the timeline, each source's timing (no look-ahead), as_of, relevance
rules and per-source freshness through ReferenceData."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.modes import BACKTESTING
from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.multimodal import build_view, view_sources
from quantdb_lab.providers.simulated.sources import news_frame
from tests.support.sim import MARKET, make_lab

SYMBOL = "600000.SH"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab, _, _ = make_lab(tmp_path_factory.mktemp("mm"))
    return lab


@pytest.fixture(scope="module")
def view(lab):
    return build_view(lab, SYMBOL, start="2023-01-01", end="2024-12-31", include=["news", "cpi", "pmi", "SC0"])


def test_lab_view_is_a_polars_frame_on_the_trading_day_timeline(lab, view):
    frame = lab.view(SYMBOL, start="2023-01-01", end="2024-12-31", include=["news", "cpi", "pmi", "SC0"])
    assert isinstance(frame, pl.DataFrame)
    assert frame.equals(view.frame)
    assert frame["date"].to_list() == lab.calendar.sessions(date(2023, 1, 3), date(2024, 12, 31))
    assert set(view.columns) == set(frame.columns)  # every column documented


def test_a_monthly_figure_appears_on_its_release_date_not_its_period(lab, view):
    frame = view.frame
    assert (frame["cpi_released"] <= frame["date"]).all()
    assert (frame["cpi_period"] < frame["date"]).all()
    cpi = lab.reference.macro("cpi").filter(pl.col("release_date").is_between(date(2023, 3, 1), date(2024, 12, 1)))
    for period, released, value in cpi.select("period", "release_date", "value").iter_rows():
        on = frame.filter(pl.col("date") >= released).row(0, named=True)  # first session on/after release
        before = frame.filter(pl.col("date") < released).row(-1, named=True)
        assert on["cpi_period"] == period and on["cpi"] == value
        assert before["cpi_period"] < period  # not visible the session before, nor in the month it describes
        in_period = frame.filter(pl.col("date").dt.month_start() == period)
        assert (in_period["cpi_period"] < period).all()


def test_news_counts_from_its_publication_and_after_15_00_for_the_next_session(lab, view):
    frame = view.frame
    closes = {d: datetime.combine(d, time(15), EXCHANGE_TZ) for d in frame["date"].to_list()}
    assert all(at is None or at <= closes[d] for d, at in frame.select("date", "last_news_at").iter_rows())
    news = news_frame(MARKET.seed, parse_symbol(SYMBOL), datetime(2025, 6, 6, 16, tzinfo=EXCHANGE_TZ))
    late = news.filter(pl.col("published_at").dt.date().is_in(list(closes))
                       & (pl.col("published_at").dt.time() > time(15)))  # fmt: skip
    assert late.height > 5
    sessions = frame["date"].to_list()
    for published in late["published_at"].to_list()[:20]:
        day = published.date()
        if day == sessions[-1]:
            continue
        nxt = sessions[sessions.index(day) + 1]
        row = frame.filter(pl.col("date") == day).row(0, named=True)
        assert row["last_news_at"] is None or row["last_news_at"] < published
        row_next = frame.filter(pl.col("date") == nxt).row(0, named=True)
        assert row_next["news_count"] >= 1 and row_next["last_news_at"] >= published
    counted = news.filter(pl.col("published_at").is_between(
        closes[sessions[0]] - timedelta(days=4), closes[sessions[-1]]))  # fmt: skip
    assert frame["news_count"].sum() <= counted.height


def test_backtesting_as_of_sees_nothing_later(lab, view):
    as_of = date(2024, 6, 14)
    backtest = lab.using(BACKTESTING.with_(as_of=as_of, on_quality_fail="ignore"))
    past = build_view(backtest, SYMBOL, start="2023-01-01", end="2024-12-31", include=["news", "cpi", "pmi", "SC0"])
    frame = past.frame
    cutoff = datetime.combine(as_of, time(15), EXCHANGE_TZ)
    assert frame["date"].max() == as_of
    assert (frame["last_news_at"].drop_nulls() <= cutoff).all()
    assert (frame["cpi_released"] <= as_of).all() and (frame["pmi_released"] <= as_of).all()
    assert any("as_of" in reason for reason in past.sources.reasons)
    # the cache already holds later data (the research view loaded it): the backtest's rows equal the
    # research rows up to as_of in every non-price column, so nothing later leaked in
    columns = [c for c in frame.columns if c not in ("close", "return", "volume")]
    assert frame.select(columns).equals(view.frame.filter(pl.col("date") <= as_of).select(columns))


def test_relevance_rules_pick_sources_and_say_why(lab):
    momentum = view_sources(lab, SYMBOL, context="momentum")
    assert momentum.news and not momentum.macro and any("momentum" in r for r in momentum.reasons)
    index = view_sources(lab, "000300.SH")
    assert index.macro and not index.news and any("index" in r for r in index.reasons)
    energy = view_sources(lab, "Energy")
    assert energy.commodities == ("SC0",) and any("Energy" in r for r in energy.reasons)
    fallback = view_sources(lab, SYMBOL)
    assert fallback.news and fallback.reasons
    explicit = view_sources(lab, SYMBOL, include=["m2", "CU0"])
    assert explicit.macro == ("m2",) and explicit.commodities == ("CU0",) and not explicit.news
    with pytest.raises(InvalidRequestError):
        view_sources(lab, SYMBOL, context="astrology")
    with pytest.raises(InvalidRequestError):
        view_sources(lab, "no such sector")


def test_sector_view_with_context_chosen_commodities(lab):
    result = build_view(lab, "Energy", start="2024-01-01", end="2024-03-29")
    assert result.frame["close"][0] == 100.0 and "sc0_close" in result.frame.columns
    assert result.frame["sc0_close"].null_count() == 0


def test_each_source_has_its_own_freshness(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-06 16:00")
    reference = lab.reference
    reference.news(SYMBOL), reference.macro("cpi"), reference.commodity_daily("SC0")
    calls = dict(provider.calls)
    clock.advance(20 * 60)  # 16:20: everything fresh
    reference.news(SYMBOL), reference.macro("cpi"), reference.commodity_daily("SC0")
    assert provider.calls == calls
    clock.advance(20 * 60)  # 16:40: news (30 min) is stale, the daily sources are not
    later = reference.news(SYMBOL)
    reference.macro("cpi"), reference.commodity_daily("SC0")
    assert provider.calls["fetch_news"] == calls["fetch_news"] + 1
    assert provider.calls["fetch_macro"] == calls["fetch_macro"]
    assert provider.calls["fetch_commodity_daily"] == calls["fetch_commodity_daily"]
    assert later["url"].n_unique() == later.height  # merged without duplicates


def test_rules_leave_out_sources_the_provider_does_not_serve(tmp_path, monkeypatch):
    lab, provider, _ = make_lab(tmp_path)
    served = {k: v for k, v in provider.fetchers().items() if k != "news"}
    monkeypatch.setattr(provider, "fetchers", lambda: served)
    result = build_view(lab, SYMBOL, start="2024-01-01", end="2024-02-29", context="momentum")
    assert "news_count" not in result.frame.columns and any("serves no news" in r for r in result.sources.reasons)
    with pytest.raises(InvalidRequestError):  # named explicitly: a typed error, not a silent gap
        build_view(lab, SYMBOL, start="2024-01-01", end="2024-02-29", include=["news"])
