"""The daily-bar sources of ``AkshareProvider`` as data: Eastmoney, Sina and Tencent, in order of preference.

A-share stocks have all three; indices have Eastmoney, Sina and Tencent, ETFs and Hong Kong stocks Eastmoney and
Sina (those records and their wire facts: ``kind_sources``). ``bar_sources_for`` lists a symbol's sources.

Each :class:`BarSource` pairs a ``domain.upstreams.Upstream`` record (host family, function, units, depth) with
how to call it (the symbol form and arguments) and how to read its answer (a ``BarEndpoint`` for
``transform.transform_bars``). Only unadjusted bars are fetched from any of them: the cache derives qfq and hfq.

Wire facts (akshare 1.19.5, read from its code):

* **Eastmoney** ``stock_zh_a_hist``: one kline request to push2his, filtered by the server; volume in lots.
* **Sina** ``stock_zh_a_daily(symbol="sh600000", start_date, end_date, adjust="")``: the whole history on every
  call (``realstock/company/<sym>/hisdata_klc2/klc_kl.js``, an obfuscated string decoded in V8) plus the share
  counts (``StockService.getAmountBySymbol`` JSONP); ``qfq``/``hfq`` add a factor table (``qfq.js``/``hfq.js``,
  multiplicative factors). Columns ``date, open, high, low, close, volume, amount, outstanding_share, turnover``;
  volume in shares, prices rounded to 2 decimals, turnover a fraction (volume / outstanding shares). No change
  or pct_change.
* **Tencent** ``stock_zh_a_hist_tx(symbol="sz000001", start_date, end_date, adjust="", timeout)``: one
  ``newfqkline/get`` request per calendar year from the start year to the current year (plus one for the
  listing year), filtered locally. Columns ``date, open, close, high, low, volume, turnover, amount``; amount
  in CNY, turnover a fraction. akshare multiplies volume by 100 (lots -> shares) except for codes starting
  ``sh688``, ``sz399``, ``sh000`` or ``sz000``: meant for STAR shares and indices, it also leaves Shenzhen main
  board stocks ``000xxx`` in lots, which this module corrects (the live canary records it afresh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.domain.upstreams import Upstream
from quantdb_lab.providers.akshare.columns import (
    FUND_ETF_HIST_EM,
    STOCK_HK_HIST,
    STOCK_ZH_A_HIST,
    STOCK_ZH_INDEX_DAILY_EM,
    BarEndpoint,
)
from quantdb_lab.providers.akshare.kind_sources import (
    EASTMONEY_ETF,
    EASTMONEY_HK,
    EASTMONEY_INDEX,
    FUND_ETF_HIST_SINA,
    SINA_ETF,
    SINA_HK,
    SINA_INDEX,
    STOCK_HK_DAILY,
    STOCK_ZH_INDEX_DAILY,
    STOCK_ZH_INDEX_DAILY_TX,
    TENCENT_INDEX,
)
from quantdb_lab.providers.akshare.query import HOST_FAMILIES, KLINE_HOST_FAMILY, build_bars_query, yyyymmdd

SINA_KLINE_FAMILY: Final = HOST_FAMILIES["stock_zh_a_daily"]  # finance.sina.com.cn, stock.finance.sina.com.cn
TENCENT_KLINE_FAMILY: Final = HOST_FAMILIES["stock_zh_a_hist_tx"]  # proxy.finance.qq.com

EASTMONEY: Final = Upstream(
    name="eastmoney", host_family=KLINE_HOST_FAMILY, function="stock_zh_a_hist", adjustments=("", "qfq", "hfq"),
    adjustment_method="affine: raw minus later cash dividends over share ratios", volume_unit="lots",
    price_decimals=2, history_start=None, date_filter="server", requests_per_call="1",
    kinds=("stock",),
)  # fmt: skip
SINA: Final = Upstream(
    name="sina", host_family=SINA_KLINE_FAMILY, function="stock_zh_a_daily", adjustments=("", "qfq", "hfq"),
    adjustment_method="multiplicative factor tables (qfq.js, hfq.js)", volume_unit="shares", price_decimals=2,
    history_start=None, date_filter="local", requests_per_call="2 (klc_kl.js + share counts; +1 factor table)",
)  # fmt: skip
TENCENT: Final = Upstream(
    name="tencent", host_family=TENCENT_KLINE_FAMILY, function="stock_zh_a_hist_tx",
    adjustments=("", "qfq", "hfq"), adjustment_method="Tencent's own (newfqkline qfq/hfq)",
    volume_unit="lots for sz000xxx, else shares", price_decimals=2, history_start=None, date_filter="local",
    requests_per_call="1 per calendar year from the start to today, +1 for the listing year",
)  # fmt: skip

SINA_COLUMNS: Final[dict[str, str]] = {c: c for c in ("date", "open", "high", "low", "close", "volume", "amount",
                                                       "turnover")}  # fmt: skip
SINA_ORDER: Final = ("date", "open", "high", "low", "close", "volume", "amount", "outstanding_share", "turnover")
TENCENT_COLUMNS: Final[dict[str, str]] = {c: c for c in ("date", "open", "close", "high", "low", "volume",
                                                         "turnover", "amount")}  # fmt: skip
TENCENT_ORDER: Final = tuple(TENCENT_COLUMNS)

STOCK_ZH_A_DAILY: Final = BarEndpoint(
    "stock_zh_a_daily", SINA_COLUMNS, frozenset({"outstanding_share"}), SINA_ORDER,
    lot_size=1, date_form="date", accepts_timeout=False, percent=(),
)  # fmt: skip
STOCK_ZH_A_HIST_TX: Final = BarEndpoint(
    "stock_zh_a_hist_tx", TENCENT_COLUMNS, frozenset(), TENCENT_ORDER,
    lot_size=1, date_form="date", accepts_timeout=True, percent=(),
)  # fmt: skip
#: the same answer for a Shenzhen ``000xxx`` stock, whose volume akshare leaves in lots
STOCK_ZH_A_HIST_TX_LOTS: Final = BarEndpoint(
    "stock_zh_a_hist_tx", TENCENT_COLUMNS, frozenset(), TENCENT_ORDER,
    lot_size=100, date_form="date", accepts_timeout=True, percent=(),
)  # fmt: skip


def prefixed(symbol: Symbol) -> str:
    """Sina's and Tencent's form: ``sh600000``, ``sz000001``, ``bj830799``."""
    return f"{symbol.exchange.lower()}{symbol.code}"


def tencent_endpoint(symbol: Symbol) -> BarEndpoint:
    return STOCK_ZH_A_HIST_TX_LOTS if prefixed(symbol).startswith("sz000") else STOCK_ZH_A_HIST_TX


@dataclass(frozen=True, slots=True)
class BarSource:
    upstream: Upstream
    endpoint: Callable[[Symbol], BarEndpoint]
    kwargs: Callable[[Symbol, date, date], dict[str, Any]]

    @property
    def name(self) -> str:
        return self.upstream.name

    def serves(self, symbol: Symbol) -> bool:
        return kind_of(symbol) in self.upstream.kinds


def kind_of(symbol: Symbol) -> str:
    """The kind an ``Upstream`` lists: ``"hk"`` for a Hong Kong stock, else the symbol's own kind. A CSI-only
    index (93xxxx, Eastmoney's ``csi`` prefix) is ``"csi"``: neither Sina's nor Tencent's index function is
    known to serve one."""
    if symbol.exchange == "HK":
        return "hk"
    if symbol.kind == "index" and symbol.exchange == "SH" and symbol.code.startswith("93"):
        return "csi"
    return symbol.kind


def _dates(start: date, end: date) -> dict[str, str]:
    return {"start_date": yyyymmdd(start), "end_date": yyyymmdd(end)}


def _eastmoney_query(s: Symbol, a: date, b: date) -> dict[str, Any]:
    return dict(build_bars_query(s, a, b).kwargs)  # the single-source read's own call, unadjusted


#: Daily bars of A-share stocks, in order of preference.
STOCK_BAR_SOURCES: Final[tuple[BarSource, ...]] = (
    BarSource(EASTMONEY, lambda _s: STOCK_ZH_A_HIST,
              lambda s, a, b: {"symbol": s.code, "period": "daily", **_dates(a, b), "adjust": ""}),
    BarSource(SINA, lambda _s: STOCK_ZH_A_DAILY, lambda s, a, b: {"symbol": prefixed(s), **_dates(a, b), "adjust": ""}),
    BarSource(TENCENT, tencent_endpoint, lambda s, a, b: {"symbol": prefixed(s), **_dates(a, b), "adjust": ""}),
)  # fmt: skip
BAR_SOURCES_BY_NAME: Final[dict[str, BarSource]] = {s.name: s for s in STOCK_BAR_SOURCES}

#: Daily bars of indices, ETFs and HK stocks, in order of preference per kind (``kind_sources``).
INDEX_BAR_SOURCES: Final[tuple[BarSource, ...]] = (
    BarSource(EASTMONEY_INDEX, lambda _s: STOCK_ZH_INDEX_DAILY_EM, _eastmoney_query),
    BarSource(SINA_INDEX, lambda _s: STOCK_ZH_INDEX_DAILY, lambda s, _a, _b: {"symbol": prefixed(s)}),
    BarSource(TENCENT_INDEX, lambda _s: STOCK_ZH_INDEX_DAILY_TX, lambda s, a, b: {"symbol": prefixed(s), **_dates(a, b)}),
)  # fmt: skip
ETF_BAR_SOURCES: Final[tuple[BarSource, ...]] = (
    BarSource(EASTMONEY_ETF, lambda _s: FUND_ETF_HIST_EM, _eastmoney_query),
    BarSource(SINA_ETF, lambda _s: FUND_ETF_HIST_SINA, lambda s, _a, _b: {"symbol": prefixed(s)}),
)  # fmt: skip
HK_BAR_SOURCES: Final[tuple[BarSource, ...]] = (
    BarSource(EASTMONEY_HK, lambda _s: STOCK_HK_HIST, _eastmoney_query),
    BarSource(SINA_HK, lambda _s: STOCK_HK_DAILY, lambda s, _a, _b: {"symbol": s.code, "adjust": ""}),
)  # fmt: skip
ALL_BAR_SOURCES: Final[tuple[BarSource, ...]] = (*STOCK_BAR_SOURCES, *INDEX_BAR_SOURCES, *ETF_BAR_SOURCES,
                                                 *HK_BAR_SOURCES)  # fmt: skip


def bar_sources_for(symbol: Symbol) -> tuple[BarSource, ...]:
    """The sources serving ``symbol``'s unadjusted daily bars, in order of preference (empty: one source only,
    Eastmoney's, read through ``query.endpoint_for``: a CSI-only index)."""
    return tuple(s for s in ALL_BAR_SOURCES if s.serves(symbol))
