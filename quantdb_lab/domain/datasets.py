"""Datasets as data: every dataset quantdb_lab caches, described once.

A :class:`Dataset` says what a dataset's frames look like and how the rest of the system treats it: its schema,
what indexes a row (a trading session, a timestamp, a snapshot, an event), how stored series are keyed, how long
a fetched copy stays fresh, which column a point-in-time (``as_of``) read filters on, and which provider
capability serves it. Providers expose ``fetchers() -> {capability: fetch}``; the loader, the planner, the quality
checks, the cache monitor and the collector read this registry instead of branching on dataset names (the model
is exchange_calendars' calendar registry). Adding a dataset is one entry here plus one fetcher per provider.

Index kinds:

* ``session``: one row per trading session (daily bars); coverage is interval arithmetic over sessions.
* ``timestamp``: many rows per session (minute bars); coverage is still by session, each session whole.
* ``event``: rows that happened on a session (limit-up pool, dragon-tiger list, corporate actions); the
  ``pit_column`` says from when a row may be seen.
* ``snapshot``: the whole dataset as known at one moment (security master, index members, quotes), stored
  with the time it was known.

Freshness:

* ``final``: a closed session's rows never change; the open session's are provisional (refreshed after the
  mode's ``cache_duration``, replaced once final).
* ``session``: a stored copy is fresh until a session's bar becomes final after it was fetched (lists and
  constituents change at most daily).
* ``minutes:<n>``: fresh for n minutes (news, quotes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import polars as pl

from quantdb_lab.domain.events import DRAGON_TIGER, LIMIT_UP_POOL
from quantdb_lab.domain.pit import (
    EARNINGS_FORECASTS,
    EARNINGS_RELEASES,
    FINANCIALS,
    INDEX_SNAPSHOTS,
    SECURITY_EVENTS,
    ST_BOARD,
)
from quantdb_lab.domain.schema import BARS, COMMODITY_BARS, MINUTE_BARS, SECURITIES
from quantdb_lab.errors import InvalidRequestError

INDEX_KINDS: Final = ("session", "timestamp", "event", "snapshot")
FETCH_UNITS: Final = ("run", "session", "window")
FRESHNESS: Final = ("final", "session")
OFF_SESSION: Final = ("refuse", "previous", "keep")


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    """One dataset's description (frozen: a registry entry is data)."""

    name: str  # the stored dataset's name (the store's key), e.g. "bars"
    title: str  # what a person calls it, for the cache monitor and errors
    schema: dict[str, pl.DataType]
    index: str  # one of INDEX_KINDS
    index_column: str  # the column rows are ordered by: "date" or "time"
    unique_index: bool = True  # one row per index value within a series (False for event lists)
    per_symbol: bool = True  # a series per symbol; False: one market-wide series (key symbol "market")
    freshness: str = "final"  # one of FRESHNESS, or "minutes:<n>"
    pit_column: str | None = None  # what as_of filters on (None: the index column)
    capability: str = ""  # the key of the provider's fetchers() that serves it
    segment_period: str = "year"  # how the cross-sectional segments are cut: "year" or "month"
    fetch_unit: str = "run"  # one call per: "run" of missing sessions, "session", or the upstream's "window"
    upstream_sessions: int | None = None  # how many recent sessions the upstream keeps (None: all history)
    params: dict[str, object] = field(default_factory=dict)  # fixed arguments to the fetcher (e.g. period)
    # Rows an answer labels with a date that is no session: "refuse" (ProviderSchemaError, nothing stored) or
    # "previous" (they are the previous session's: an upstream that answers a non-trading date with the last
    # session's list labelled with the date asked for, Eastmoney's limit-up pool) or "keep" (rows may fall on any
    # day: a listing, a delisting, an announcement on a weekend).
    off_session: str = "refuse"
    # An empty answer about a closed session is the upstream's statement (a day without a limit-up): covered at
    # once. False (bars): asked again, and covered only once a second answer confirms it.
    empty_is_answer: bool = False
    freq: str | None = None  # the ``lab.bars(freq=...)`` this dataset serves ("1min"), None: read it by name
    bar_minutes: int | None = None  # minute bars: each bar's length
    derived_from: str | None = None  # a finer dataset whose stored sessions serve this one (bars re-aggregated)
    # Versioned datasets (financial statements): rows with these key columns are versions; a fetch whose figures
    # differ from the stored latest version adds a new one, known from the session it was noticed (loader.pit).
    version_key: tuple[str, ...] = ()
    # Sparse datasets have rows on some sessions only (announcements, listings): an answer covers every session
    # it was asked about, whatever days its rows fall on (a dense one is judged by the sessions it served).
    sparse: bool = False
    # Rows are judged for a volume unit switch as they enter the cache (``loader.units``: Eastmoney's volume in
    # shares where lots were expected), corrected and listed by every read of them, whichever path stored them.
    volume_units: bool = False

    def __post_init__(self) -> None:
        if self.index not in INDEX_KINDS:
            raise ValueError(f"{self.name}: index must be one of {INDEX_KINDS}, not {self.index!r}")
        if self.freshness not in FRESHNESS and not self.freshness.startswith("minutes:"):
            raise ValueError(f"{self.name}: freshness must be one of {FRESHNESS} or 'minutes:<n>'")
        if self.fetch_unit not in FETCH_UNITS:
            raise ValueError(f"{self.name}: fetch_unit must be one of {FETCH_UNITS}, not {self.fetch_unit!r}")
        if self.off_session not in OFF_SESSION:
            raise ValueError(f"{self.name}: off_session must be one of {OFF_SESSION}, not {self.off_session!r}")
        if self.derived_from is not None and self.bar_minutes is None:
            raise ValueError(f"{self.name}: a derived dataset says its bar length (bar_minutes)")
        if self.index_column not in self.schema:
            raise ValueError(f"{self.name}: the index column {self.index_column!r} is not in the schema")

    @property
    def as_of_column(self) -> str:
        return self.pit_column or self.index_column

    @property
    def forgets(self) -> bool:
        """Whether the upstream drops old sessions: what only a cache that captured them in time still has."""
        return self.upstream_sessions is not None

    @property
    def max_age_minutes(self) -> float | None:
        return float(self.freshness.split(":", 1)[1]) if self.freshness.startswith("minutes:") else None


_REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add a dataset (a name can be registered once; tests and plugins add their own)."""
    if dataset.name in _REGISTRY and _REGISTRY[dataset.name] != dataset:
        raise ValueError(f"dataset {dataset.name!r} is already registered differently")
    _REGISTRY[dataset.name] = dataset
    return dataset


def dataset(name: str) -> Dataset:
    """The registered dataset called ``name`` (InvalidRequestError naming the known ones otherwise)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidRequestError(
            f"unknown dataset {name!r}; known: {', '.join(sorted(_REGISTRY))}", dataset=str(name)[:80]
        ) from None


def datasets() -> MappingProxyType[str, Dataset]:
    """Every registered dataset, by name (read-only)."""
    return MappingProxyType(_REGISTRY)


def dataset_for_freq(freq: str) -> Dataset | None:
    """The dataset that serves ``lab.bars(freq=freq)``, if one does (None: a daily-derived frequency)."""
    return next((found for found in _REGISTRY.values() if found.freq == freq), None)


def index_column_of(name: str, default: str = "date") -> str:
    """The index column of a stored dataset (``default`` for names not registered: tests, old caches)."""
    found = _REGISTRY.get(name)
    return found.index_column if found is not None else default


DAILY_BARS = register(Dataset(
    name="bars", title="daily bars (unadjusted)", schema=BARS, index="session", index_column="date",
    capability="daily_bars", volume_units=True,
))  # fmt: skip

SECURITY_MASTER = register(Dataset(
    name="securities", title="security master", schema=SECURITIES, index="snapshot", index_column="list_date",
    per_symbol=False, freshness="session", capability="securities",
))  # fmt: skip

# Not judged for volume units: the rule needs ``amount`` and futures bars carry none, and continuous-contract
# volume alone leaves 30x of its recent median on real sessions (rolls, thin days; tests/integration/
# test_commodity_volume_real_data.py); futures volume is in contracts, with no lots/shares ambiguity.
COMMODITY_DAILY = register(Dataset(
    name="commodity_daily", title="futures main-contract daily bars", schema=COMMODITY_BARS, index="session",
    index_column="date", freshness="session", capability="commodity_daily",
))  # fmt: skip

# The daily event lists (domain.events): market-wide, one list per session, asked for one trading date a call.
# Retention as the upstream states it (akshare's docs of stock_zt_pool_em: "only recent data") and as
# users report it (about a month of pools; the data centre's list longer): the windows below are deliberately
# short, so the collector captures a session long before it expires. tests/network settles them on the first
# online run (test_live_event_retention).
LIMIT_UP = register(Dataset(
    name="limit_up_pool", title="limit-up pool", schema=LIMIT_UP_POOL, index="event",
    index_column="date", unique_index=False, per_symbol=False, capability="limit_up_pool", fetch_unit="session",
    upstream_sessions=20, off_session="previous", empty_is_answer=True,
))  # fmt: skip

DRAGON_TIGER_LIST = register(Dataset(
    name="dragon_tiger", title="dragon-tiger list", schema=DRAGON_TIGER, index="event",
    index_column="date", unique_index=False, per_symbol=False, capability="dragon_tiger", fetch_unit="session",
    upstream_sessions=60, empty_is_answer=True,
))  # fmt: skip
# Minute bars (docs/minute-bars.md). Eastmoney keeps 5 sessions of 1-minute bars (trends2 ``ndays=5``) and about 31
# sessions of 5/15/30/60-minute bars (the shared 5-minute recording holds 31 sessions; akshare issue #2040 "about a
# month and a half", efinance #130 "124 bars" of 60 minutes); 30 is asked for, so a call never asks past the window.
# Each call returns the whole window (``fetch_unit="window"``). Coarser bars come from the stored 1-minute bars
# wherever those are stored (``derived_from``), and from the upstream's own coarser bars elsewhere.
MINUTE_DATASETS = tuple(register(Dataset(
    name=f"bars_{minutes}min", title=f"{minutes}-minute bars (unadjusted)", schema=MINUTE_BARS, index="timestamp",
    index_column="time", capability="minute_bars", segment_period="month", fetch_unit="window",
    upstream_sessions=5 if minutes == 1 else 30, params={"period": str(minutes)}, freq=f"{minutes}min",
    bar_minutes=minutes, derived_from=None if minutes == 1 else "bars_1min", volume_units=True,
)) for minutes in (1, 5, 15, 30, 60))  # fmt: skip

SECURITY_HISTORY = register(Dataset(
    name="security_events", title="security master events (listings, delistings, ST, names)",
    schema=SECURITY_EVENTS, index="event", index_column="date", unique_index=False, per_symbol=False,
    freshness="session", capability="security_events", sparse=True, off_session="keep",
))  # fmt: skip

INDEX_MEMBERSHIP = register(Dataset(
    name="index_snapshots", title="index constituents as captured", schema=INDEX_SNAPSHOTS, index="snapshot",
    index_column="date", unique_index=False, freshness="session", fetch_unit="window", upstream_sessions=1,
    capability="index_snapshot", sparse=True, off_session="keep",
))  # fmt: skip

# The risk-warning board serves only today's ST and *ST stocks: what the collector captures each session is the
# ST history of stocks no dated list covers (Shanghai's), from the first capture on (domain.master).
ST_SNAPSHOTS = register(Dataset(
    name="st_board", title="ST and *ST stocks as captured", schema=ST_BOARD, index="snapshot", index_column="date",
    unique_index=False, per_symbol=False, freshness="session", fetch_unit="window", upstream_sessions=1,
    capability="st_board", sparse=True, off_session="keep",
))  # fmt: skip

FINANCIAL_STATEMENTS = register(Dataset(
    name="financials", title="financial statements by report (point in time)", schema=FINANCIALS,
    index="event", index_column="known_at", unique_index=False, freshness="session", pit_column="known_at",
    capability="financials", version_key=("report_period",), sparse=True, off_session="keep",
))  # fmt: skip

# Eastmoney's results tables (express reports, results headlines, forecasts): one report period of every
# stock a call, so market-wide; rows are announcements, visible from their day (docs/point-in-time.md).
EARNINGS_RELEASE_LIST = register(Dataset(
    name="earnings_releases", title="express and results announcements (point in time)", schema=EARNINGS_RELEASES,
    index="event", index_column="known_at", unique_index=False, per_symbol=False, freshness="session",
    pit_column="known_at", capability="earnings_releases", sparse=True, off_session="keep",
))  # fmt: skip

EARNINGS_FORECAST_LIST = register(Dataset(
    name="earnings_forecasts", title="earnings forecasts (point in time)", schema=EARNINGS_FORECASTS,
    index="event", index_column="known_at", unique_index=False, per_symbol=False, freshness="session",
    pit_column="known_at", capability="earnings_forecasts", sparse=True, off_session="keep",
))  # fmt: skip
