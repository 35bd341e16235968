"""Groups of peers (sectors, index constituents) for the predictor's ``prefetch_related`` rule.

Built from what the provider can tell without an upstream call: the simulated market knows its sectors and
index members. For akshare the security master is a ~58-page pull, too costly to repeat per warming pass,
so peers stay off there until the security master is cached (``peers_from_securities`` is ready for it).
"""

from __future__ import annotations

from datetime import date, datetime, time

import polars as pl

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.domain.modes import ContextMode
from quantdb_lab.prefetch.predict import Peers
from quantdb_lab.providers.base import Provider


def peers_from_securities(securities: pl.DataFrame, indices: dict[str, list[str]] | None = None) -> Peers:
    """Sector groups from a security master with ``symbol`` and ``industry`` columns, plus index groups, and the
    listing dates of its ``list_date`` column if it has one."""
    groups: dict[str, tuple[str, ...]] = {}
    if securities.height and {"symbol", "industry"} <= set(securities.columns):
        for (industry,), frame in securities.filter(pl.col("industry").is_not_null()).group_by(["industry"]):
            groups[f"sector:{industry}"] = tuple(sorted(frame["symbol"].to_list()))
    for index, members in (indices or {}).items():
        groups[f"index:{index}"] = tuple(sorted(members))
    listed: dict[str, date] = {}
    if securities.height and {"symbol", "list_date"} <= set(securities.columns):
        known = securities.filter(pl.col("list_date").is_not_null())
        listed = dict(zip(known["symbol"].to_list(), known["list_date"].cast(pl.Date).to_list(), strict=True))
    return Peers(groups, listed)


def peers_moment(mode: ContextMode, now: datetime) -> datetime:
    """When peers are taken: ``now``, or the close of a backtest's ``as_of`` day (its sectors and index members
    then, delisted stocks included, never today's)."""
    if mode.as_of is None:
        return now
    return min(now, datetime.combine(mode.as_of, time(16, 0), tzinfo=EXCHANGE_TZ))


def peers_from_provider(provider: Provider, now: datetime) -> Peers | None:
    """Peers the provider knows offline (the simulated market), or None. Memoised per provider and day: group
    lists change at most daily, and building them is CPU work that would compete with the kernel."""
    key = (id(provider), now.date())
    if key not in _memo:
        _memo.clear()
        _memo[key] = _build(provider, now)
    return _memo[key]


_memo: dict[tuple[int, date], Peers | None] = {}


def _build(provider: Provider, now: datetime) -> Peers | None:
    market = getattr(provider, "market", None)
    if market is None or not hasattr(market, "securities") or not hasattr(market, "index_members"):
        return None
    securities = market.securities(now=now).filter(~pl.col("symbol").str.ends_with(".HK"))
    indices = {index: market.index_members(index, now=now) for index in market.symbols("index")}
    return peers_from_securities(securities, indices)
