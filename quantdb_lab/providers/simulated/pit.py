"""The simulated market through time: delisted stocks, ST episodes, name changes and financial statements.

NOT REAL DATA. Everything derives from ``(seed, symbol)``, like the rest of the simulated market.

* **Delistings**: besides its ``n_stocks`` listed stocks the market holds ``n_stocks // 12`` (at least 3)
  main-board stocks delisted between 2008 and mid-2025 (studies of A-share backtests put the missing names at
  4-11 % of a universe). Each was put under *ST about a year before it went, so its price limit is 5 % then.
* **ST and names**: a listed stock with ``st_since`` became "ST <name>" that day; about one in eight stocks
  listed before 2015 carried an older short name until a rename day.
* **Statements**: one report per quarter end after listing (income and cash flow year-to-date), announced
  within the exchanges' deadlines (Q1 and Q3 within a month, H1 within two, the annual report by April 30);
  about 4 % of reports are restated later (``update_date``), the upstream then serving the restated figures.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from quantdb_lab.domain.pit import FINANCIALS, SECURITY_EVENTS, ST_BOARD
from quantdb_lab.domain.releases import quarter_ends
from quantdb_lab.providers.simulated.universe import Profile, stock_profile, symbol_rng

if TYPE_CHECKING:
    from quantdb_lab.providers.simulated.market import SimulatedMarket

HORIZON = date(2030, 12, 31)
FIRST_DELISTING, LAST_DELISTING = date(2008, 1, 1), date(2025, 6, 30)
RENAME_SHARE = 0.125
RESTATED_SHARE = 0.04


_SH_CODES, _SZ_CODES = (600000, 604000), (1, 999)  # main-board code ranges the delisted are drawn from


def delisted_codes(seed: int, n_stocks: int, taken: set[str]) -> list[str]:
    """The delisted stocks' symbols: main-board codes the listed universe does not use (a twelfth of the market,
    at most half the codes left free: a large universe takes most of the main board)."""
    free = sum(f"{c:06d}.SH" not in taken for c in range(*_SH_CODES)) + sum(
        f"{c:06d}.SZ" not in taken for c in range(*_SZ_CODES))  # fmt: skip
    count = min(max(3, n_stocks // 12), free // 2)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(b"delisted")])
    out: set[str] = set()
    while len(out) < count:
        sh = rng.random() < 0.55
        code = int(rng.integers(*_SH_CODES) if sh else rng.integers(*_SZ_CODES))
        symbol = f"{code:06d}.{'SH' if sh else 'SZ'}"
        if symbol not in taken:
            out.add(symbol)
    return sorted(out)


def delisted_profile(seed: int, symbol: str, number: int) -> Profile:
    """A delisted stock: listed at least three years, *ST for its last year or so."""
    base = stock_profile(seed, symbol, number)
    rng = symbol_rng(seed, symbol, 21)
    delist = FIRST_DELISTING + timedelta(days=int(rng.integers((LAST_DELISTING - FIRST_DELISTING).days)))
    earliest = date(1995, 1, 3)
    listed = earliest + timedelta(days=int(rng.integers(max((delist - earliest).days - 3 * 365, 1))))
    st_since = delist - timedelta(days=int(rng.integers(250, 500)))
    return replace(base, name=base.name.replace("Sim ", "Sim Gone ", 1), list_date=listed, st_since=st_since,
                   delist_date=delist, payer=False)  # fmt: skip


def security_events(market: SimulatedMarket, latest: date) -> pl.DataFrame:
    """Every event up to ``latest`` (a session), ``SECURITY_EVENTS``; ground truth for the history tests."""
    rows: list[tuple[str, date, str, str, str, str, str | None]] = []
    for symbol in market.symbols("stock") + market.symbols("delisted"):
        profile = market.profile(symbol)
        assert profile is not None
        listed = market.listing_date(symbol)
        if listed > latest:
            continue
        rename = _rename_day(market.seed, profile, listed)
        first_name = f"{profile.name} (old)" if rename is not None else profile.name
        board, industry = profile.board, profile.industry
        rows.append((symbol, listed, "listed", first_name, board, industry, None))
        if rename is not None:
            rows.append((symbol, rename, "renamed", profile.name, board, industry, first_name))
        name = profile.name
        if profile.st_since is not None:
            kind = "star_st" if profile.delist_date is not None else "st"
            prefix = "*ST " if kind == "star_st" else "ST "
            rows.append((symbol, profile.st_since, kind, prefix + profile.name, board, industry, name))
            name = prefix + profile.name
        if profile.delist_date is not None:
            rows.append((symbol, profile.delist_date, "delisted", "*ST " + profile.name, board, industry, name))
    frame = pl.DataFrame(rows, schema=list(SECURITY_EVENTS), orient="row").cast(SECURITY_EVENTS)  # type: ignore[arg-type]
    return frame.filter(pl.col("date") <= latest).sort("date", "symbol")


def st_board(events: pl.DataFrame, day: date) -> pl.DataFrame:
    """The risk-warning board of ``day`` from the events: stocks whose latest event by then put them under ST or
    *ST (and that have not delisted), with that event's name."""
    last = events.filter(pl.col("date") <= day).sort("date", maintain_order=True).group_by("symbol").last()
    on = last.filter(pl.col("event").is_in(["st", "star_st"]))
    return on.select(pl.lit(day).alias("date"), "symbol", "name").cast(ST_BOARD).sort("symbol")  # type: ignore[arg-type]


def _rename_day(seed: int, profile: Profile, listed: date) -> date | None:
    rng = symbol_rng(seed, profile.symbol, 22)
    draw, when = rng.random(), rng.random()
    last = profile.st_since or profile.delist_date or date(2024, 12, 31)
    if draw >= RENAME_SHARE or listed >= date(2015, 1, 1) or last - listed < timedelta(days=800):
        return None
    return listed + timedelta(days=365 + int(when * ((last - listed).days - 730)))


# -- financial statements --------------------------------------------------------------------------------
def _announce(period: date, lag: float) -> date:
    if period.month == 12:
        lo, hi = date(period.year + 1, 1, 20), date(period.year + 1, 4, 30)
    elif period.month == 6:
        lo, hi = date(period.year, 7, 15), date(period.year, 8, 31)
    else:
        lo, hi = period + timedelta(days=10), period + timedelta(days=31)
    return lo + timedelta(days=int(lag * (hi - lo).days))


def statements(market: SimulatedMarket, symbol: str, latest: date) -> pl.DataFrame:
    """The stock's reports announced by ``latest`` as the upstream serves them then (restated figures once their
    ``update_date`` has passed), ``FINANCIALS`` with ``known_at`` = the announcement; empty for non-stocks."""
    profile = market.profile(symbol)
    if profile is None or profile.kind != "stock":
        return pl.DataFrame(schema=FINANCIALS)
    listed = market.listing_date(symbol)
    end = profile.delist_date or HORIZON  # generated to a fixed end, so figures never depend on the clock
    periods = quarter_ends(date(listed.year, 1, 1) if listed.month > 3 else listed, end)
    periods = [p for p in periods if p >= listed - timedelta(days=92)]
    if not periods:
        return pl.DataFrame(schema=FINANCIALS)
    rng = symbol_rng(market.seed, symbol, 23)
    n = len(periods)
    annual = profile.float_shares * profile.issue_price * rng.uniform(0.3, 1.5)
    growth = rng.normal(0.08, 0.15, n) / 4.0  # quarterly growth of the revenue level
    level = annual / 4.0 * np.exp(np.cumsum(growth))
    quarter_revenue = level * rng.uniform(0.85, 1.15, n)
    margin = np.clip(rng.normal(0.10, 0.06) + rng.normal(0.0, 0.03, n), -0.4, 0.5)
    quarter_profit = quarter_revenue * margin
    quarter_cash = quarter_profit * rng.uniform(0.6, 1.6, n)
    months = np.array([p.month for p in periods])
    new_year = months == 3
    ytd = {name: _ytd(values, new_year) for name, values in
           (("revenue", quarter_revenue), ("net_profit", quarter_profit), ("operating_cash_flow", quarter_cash),
            ("investing_cash_flow", -np.abs(quarter_cash) * rng.uniform(0.2, 0.9, n)),
            ("financing_cash_flow", quarter_cash * rng.normal(0.0, 0.4, n)))}  # fmt: skip
    ytd["operating_cost"] = ytd["revenue"] * (1.0 - np.clip(rng.normal(0.3, 0.1), 0.05, 0.8))
    ytd["parent_net_profit"] = ytd["net_profit"] * rng.uniform(0.85, 1.0)
    shares = profile.float_shares * rng.uniform(1.0, 1.6) * np.where(rng.random(n) < 0.03, 1.1, 1.0).cumprod()
    shares = np.round(shares, -2)
    assets = level * 4.0 * rng.uniform(1.5, 3.0) * np.exp(rng.normal(0, 0.02, n))
    equity = assets * rng.uniform(0.3, 0.6)
    lags = rng.random(n)
    announced = [_announce(p, lag) for p, lag in zip(periods, lags, strict=True)]
    restated = rng.random(n) < RESTATED_SHARE
    restate_after = rng.integers(60, 400, n)
    restate_by = rng.normal(0.0, 0.1, n)
    updated = [a + timedelta(days=int(d)) if r else a for a, d, r in zip(announced, restate_after, restated, strict=True)]
    factor = np.array([1.0 + b if r and u <= latest else 1.0
                       for b, r, u in zip(restate_by, restated, updated, strict=True)])  # fmt: skip
    net = ytd["net_profit"] * factor
    parent = ytd["parent_net_profit"] * factor
    frame = pl.DataFrame({
        "symbol": [symbol] * n, "report_period": periods, "announcement_date": announced,
        "update_date": [u if u <= latest else a for u, a in zip(updated, announced, strict=True)],
        "known_at": announced,
        "revenue": ytd["revenue"], "operating_cost": ytd["operating_cost"], "net_profit": net,
        "parent_net_profit": parent, "basic_eps": np.round(parent / shares, 4),
        "total_assets": assets, "total_liabilities": assets - equity, "total_equity": equity,
        "parent_equity": equity * 0.95, "share_capital": shares,
        "operating_cash_flow": ytd["operating_cash_flow"], "investing_cash_flow": ytd["investing_cash_flow"],
        "financing_cash_flow": ytd["financing_cash_flow"],
    }).cast(FINANCIALS)  # fmt: skip
    if profile.delist_date is not None:
        frame = frame.filter(pl.col("announcement_date") < profile.delist_date)
    return frame.filter(pl.col("announcement_date") <= latest).select(list(FINANCIALS))


def _ytd(quarterly: np.ndarray, new_year: np.ndarray) -> np.ndarray:
    out = np.empty_like(quarterly)
    running = 0.0
    for i, value in enumerate(quarterly):
        running = value if (new_year[i] or i == 0) else running + value
        out[i] = running
    return out


def restated_reports(market: SimulatedMarket, symbol: str, latest: date) -> pl.DataFrame:
    """The stock's reports whose figures changed after their announcement, as known by ``latest``."""
    frame = statements(market, symbol, latest)
    return frame.filter(pl.col("update_date") > pl.col("announcement_date"))

