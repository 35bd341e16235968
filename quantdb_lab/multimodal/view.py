"""One frame per security (or sector) on the trading-day timeline: prices plus news, macro and commodities,
each joined as of what was public at that day's close.

Timing rules (no look-ahead):

* a row is the state at its session's close, 15:00 Asia/Shanghai (``CLOSE``);
* news counts for the first session whose close is at or after its publication time, so an article published
  after 15:00 (or on a holiday) belongs to the next session; ``last_headline`` is ``join_asof`` backward on
  the publication time;
* a macro figure appears from its ``release_date`` on (``join_asof`` backward on the release date), never on
  the period it describes;
* a commodity's bar appears on its own session (``join_asof`` backward on its date);
* a stock's valuation (``pe_ttm``, ``pb``, ``ps_ttm``, ``total_mv``) is ``lab.valuation``'s: each session valued
  with the reports announced by it;
* with ``lab.mode.as_of`` set (backtesting), ``end`` is clipped to it and nothing published after its close
  is used, even when the cache already holds later data.

``build_view`` returns a ``View``: the frame, the ``Sources`` chosen (and why) and the column descriptions.
``Lab.view`` returns only the frame; ``view_sources`` answers which sources a view would use, without data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Final

import polars as pl

from quantdb_lab.domain.clock import to_exchange_time
from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.sources import EXCHANGE_TZ_NAME, MACRO_SERIES
from quantdb_lab.domain.symbols import Symbol, parse_symbol
from quantdb_lab.errors import EmptyResultError, InvalidRequestError, InvalidSymbolError, ProviderError
from quantdb_lab.multimodal.relevance import Sources, choose
from quantdb_lab.multimodal.sentiment import score_frame
from quantdb_lab.providers.fetchers import fetchers_of

CLOSE: Final = time(15, 0)
PRICE_COLUMNS: Final[dict[str, str]] = {
    "date": "trading session (Asia/Shanghai); every session of the calendar in [start, end]",
    "close": "closing price in the lab mode's adjustment (a sector: equal-weighted index, first day = 100)",
    "volume": "shares traded (a sector: summed over its members)",
    "return": "close-to-close return of the session, as a fraction",
}
VALUATION_COLUMNS: Final[dict[str, str]] = {  # a stock's view, from lab.valuation (point in time)
    "pe_ttm": "price / trailing-twelve-month parent net profit of the reports announced by this session",
    "pb": "price / book (parent equity) of the latest report announced by this session",
    "ps_ttm": "price / trailing-twelve-month revenue",
    "total_mv": "total market cap in CNY: raw close x the share capital of the latest report announced",
}
NEWS_COLUMNS: Final[dict[str, str]] = {
    "news_count": "articles counting for this session (published after the previous close, by this close)",
    "news_sentiment": "mean lexicon sentiment of those articles in [-1, 1]; null when there were none",
    "last_headline": "the latest headline published by this session's close",
    "last_news_at": "its publication time (Asia/Shanghai)",
}


@dataclass(frozen=True, slots=True)
class Target:
    label: str  # canonical symbol or sector name
    kind: str  # stock, index, etf, ... or "sector"
    sector: str | None
    members: tuple[str, ...]


@dataclass
class View:
    frame: pl.DataFrame
    sources: Sources
    columns: dict[str, str] = field(default_factory=dict)
    target: str = ""


def resolve_target(lab: Any, symbol_or_sector: str | Symbol) -> Target:
    """A symbol (its industry from the security master) or an industry name (its listed members)."""
    try:
        symbol = symbol_or_sector if isinstance(symbol_or_sector, Symbol) else parse_symbol(symbol_or_sector)
    except InvalidSymbolError:
        symbol = None
    securities = _securities(lab)
    if symbol is not None:
        row = securities.filter(pl.col("symbol") == symbol.canonical) if securities is not None else None
        sector = row["industry"][0] if row is not None and row.height else None
        return Target(symbol.canonical, symbol.kind, sector, (symbol.canonical,))
    name = str(symbol_or_sector).strip()
    if securities is not None:
        hit = securities.filter(pl.col("industry").str.to_lowercase() == name.lower())
        if hit.height:
            return Target(hit["industry"][0], "sector", hit["industry"][0], tuple(sorted(hit["symbol"].to_list())))
    raise InvalidRequestError(f"{symbol_or_sector!r} is neither a symbol nor an industry of the security master")


def _securities(lab: Any) -> pl.DataFrame | None:
    try:
        return lab.reference.securities()
    except InvalidRequestError:
        return None


def view_sources(lab: Any, symbol_or_sector: str | Symbol, *, include: Iterable[str] | None = None,
                 context: str | None = None) -> Sources:  # fmt: skip
    """Which sources ``lab.view`` would include for these arguments, and why (no market data is loaded)."""
    target = resolve_target(lab, symbol_or_sector)
    return choose(include=include, context=context, kind=target.kind, sector=target.sector)


def build_view(lab: Any, symbol_or_sector: str | Symbol, *, start: DateLike = None, end: DateLike = None,
               include: Iterable[str] | None = None, context: str | None = None) -> View:  # fmt: skip
    target = resolve_target(lab, symbol_or_sector)
    sources = choose(include=include, context=context, kind=target.kind, sector=target.sector)
    if include is None:  # sources the rules chose but the provider does not serve are left out, with a reason
        sources = _served(lab.provider, sources)
    first, last = parse_range(start, end)
    as_of = lab.mode.as_of
    if as_of is not None and (last is None or last > as_of):
        last = as_of
        sources = Sources(sources.news, sources.macro, sources.commodities,
                          (*sources.reasons, f"backtesting: nothing after as_of={as_of.isoformat()} is visible"))  # fmt: skip
    frame = _prices(lab, target, first, last)
    columns = dict(PRICE_COLUMNS)
    cutoff = to_exchange_time(datetime.combine(as_of, CLOSE)) if as_of is not None else None
    frame = frame.with_columns(
        pl.col("date").cast(pl.Datetime("us")).dt.offset_by("15h").dt.replace_time_zone(EXCHANGE_TZ_NAME)
        .alias("_close_at"))  # fmt: skip
    if target.kind == "stock" and "financials" in fetchers_of(lab.provider):
        frame, columns, sources = _join_valuation(lab, target, frame, columns, sources)
    reference = lab.reference
    if sources.news:
        before = lab.calendar.previous_session(frame["date"][0])
        since = to_exchange_time(datetime.combine(before, CLOSE)) if before is not None else None
        frame = _join_news(frame, reference.news(target.label), cutoff, since)
        columns |= NEWS_COLUMNS
    for name in sources.macro:
        frame = _join_macro(frame, reference.macro(name), name, as_of)
        series = MACRO_SERIES[name]
        columns |= {name: f"{series.description} ({series.unit}), latest figure released by this session",
                    f"{name}_period": f"the period that {name} figure describes",
                    f"{name}_released": f"the day that {name} figure was released"}  # fmt: skip
    for code in sources.commodities:
        bars = reference.commodity_daily(code, end=as_of)
        column = f"{code.lower()}_close"
        frame = frame.join_asof(bars.select(pl.col("date").alias("_c"), pl.col("close").alias(column)).sort("_c"),
                                left_on="date", right_on="_c", strategy="backward").drop("_c")  # fmt: skip
        columns[column] = f"{code} main-contract close of the latest commodity session at or before this one"
    return View(frame.drop("_close_at"), sources, columns, target.label)


def _join_valuation(lab: Any, target: Target, frame: pl.DataFrame, columns: dict[str, str],
                    sources: Sources) -> tuple[pl.DataFrame, dict[str, str], Sources]:  # fmt: skip
    """A stock's valuation of each session (``lab.valuation``: raw close, the reports announced by then); left
    out, with the reason, when the stock has no statements or the upstream failed them (the view stands)."""
    try:
        values = lab.valuation([target.label], start=frame["date"].min(), end=frame["date"].max())
    except (EmptyResultError, ProviderError) as exc:
        reason = f"valuation left out: {exc}"
        return frame, columns, Sources(sources.news, sources.macro, sources.commodities, (*sources.reasons, reason))
    frame = frame.join(values.select("date", *VALUATION_COLUMNS), on="date", how="left")
    return frame, columns | VALUATION_COLUMNS, sources


def _served(provider: Any, sources: Sources) -> Sources:
    news, macro, commodities = sources.news, sources.macro, sources.commodities
    reasons = list(sources.reasons)
    served = fetchers_of(provider)
    for kind, capability in (("news", "news"), ("macro", "macro"), ("commodities", "commodity_daily")):
        wanted = {"news": news, "macro": macro, "commodities": commodities}[kind]
        if wanted and capability not in served:
            reasons.append(f"provider {provider.name!r} serves no {kind}: left out")
            news, macro, commodities = (False if kind == "news" else news, () if kind == "macro" else macro,
                                        () if kind == "commodities" else commodities)  # fmt: skip
    return Sources(news, macro, commodities, tuple(reasons))


def _prices(lab: Any, target: Target, first: date | None, last: date | None) -> pl.DataFrame:
    if target.kind == "sector":  # failures (members not yet listed ...) are left out, not raised
        bars = lab.portfolio(list(target.members), start=first, end=last, progress=False).frame
    else:
        bars = lab.bars(list(target.members), start=first, end=last)
    if bars.is_empty():
        raise EmptyResultError(f"no bars for {target.label}", start=first, end=last)
    if target.kind == "sector":
        daily = (bars.sort("symbol", "date").with_columns((pl.col("close") / pl.col("close").shift().over("symbol") - 1)
                 .alias("r")).group_by("date").agg(pl.col("r").mean(), pl.col("volume").sum()).sort("date"))  # fmt: skip
        bars = daily.with_columns((100 * (1 + pl.col("r").fill_null(0)).cum_prod()).alias("close"))
    bars = bars.select("date", "close", "volume")
    sessions = lab.calendar.sessions(bars["date"].min(), bars["date"].max())
    timeline = pl.DataFrame({"date": sessions}, schema={"date": pl.Date})
    frame = timeline.join(bars, on="date", how="left")
    return frame.with_columns((pl.col("close") / pl.col("close").shift() - 1).alias("return"))


def _join_news(frame: pl.DataFrame, news: pl.DataFrame, cutoff: datetime | None,
               since: datetime | None) -> pl.DataFrame:  # fmt: skip
    if cutoff is not None:
        news = news.filter(pl.col("published_at") <= cutoff)
    news = score_frame(news.select("published_at", "title")).sort("published_at")
    closes = frame.select("date", "_close_at")
    counted = news if since is None else news.filter(pl.col("published_at") > since)
    per_session = (counted.join_asof(closes, left_on="published_at", right_on="_close_at", strategy="forward")
                   .group_by("date").agg(pl.len().alias("news_count"), pl.col("sentiment").mean().alias("news_sentiment")))  # fmt: skip
    frame = frame.join(per_session, on="date", how="left").with_columns(
        pl.col("news_count").fill_null(0).cast(pl.UInt32))  # fmt: skip
    latest = news.select(pl.col("published_at").alias("last_news_at"), pl.col("title").alias("last_headline"))
    frame = frame.join_asof(latest, left_on="_close_at", right_on="last_news_at", strategy="backward")
    return frame.select(*[c for c in frame.columns if c not in ("last_news_at", "last_headline")],
                        "last_headline", "last_news_at")  # fmt: skip


def _join_macro(frame: pl.DataFrame, series: pl.DataFrame, name: str, as_of: date | None) -> pl.DataFrame:
    if as_of is not None:
        series = series.filter(pl.col("release_date") <= as_of)
    right = series.select(pl.col("release_date").alias(f"{name}_released"), pl.col("value").alias(name),
                          pl.col("period").alias(f"{name}_period")).sort(f"{name}_released")  # fmt: skip
    frame = frame.join_asof(right, left_on="date", right_on=f"{name}_released", strategy="backward")
    return frame.select(*[c for c in frame.columns if c not in (name, f"{name}_period", f"{name}_released")],
                        name, f"{name}_period", f"{name}_released")  # fmt: skip
