"""The fallback daily-bar sources of indices, ETFs and Hong Kong stocks, as data (Sina, and Tencent for indices).

Eastmoney serves each of these kinds from one kline host (``query.endpoint_for``); these records let the loader
fail over from it as it does for A-share stocks (``bar_sources``). Each is an ``Upstream`` record (what it
serves, its units and host family) and a ``BarEndpoint`` (how ``transform.transform_bars`` reads its answer).
None of them is asked for an adjustment: the cache derives qfq and hfq from the unadjusted bars.

Wire facts (akshare 1.19.5, read from its code and its documentation's samples):

* **Sina index** ``stock_zh_index_daily(symbol="sh000300")``: one GET of
  ``finance.sina.com.cn/realstock/company/<sym>/hisdata/klc_kl.js`` (an obfuscated string decoded in V8), the
  whole history on every call; there are no date arguments, so the range is filtered here. Columns come from the
  decoder's records: ``date`` (object column of ``datetime.date``), ``open high low close`` float64 (3
  decimals), ``volume`` int64 in **shares** (recent values are whole hundreds: lots x 100), ``amount`` (CNY)
  only when the payload carries it, and a ``prevclose`` column (first row only) when it carries that block.
  History starts where Sina's does, not at the index's launch. No timeout argument.
* **Tencent index** ``stock_zh_index_daily_tx(symbol="sh000300", start_date, end_date)``: with a start date, one
  ``proxy.finance.qq.com/.../newfqkline/get`` request per calendar year from the start year to the end year
  (``<sym>,day,<y>-01-01,<y+1>-12-31,640,qfq``: always Tencent's qfq, which for an index is the plain series;
  without a start date one more request finds the first date). Filtered locally, both ends inclusive. Columns
  ``date`` (``datetime.date``), ``open close high low`` float64 (2 decimals) and ``amount`` float64, which is
  the kline's sixth field: the **volume in lots** (akshare's documentation: unit 手; sh000001 on 2026-01-05
  shows 596,950,455, i.e. 59.7 bn shares). There is no turnover value: ``amount`` is null from this source.
  (akshare's ``stock_zh_a_hist_tx`` leaves ``sh000``/``sz399`` volumes unmultiplied, commenting that indices are
  in shares already; that contradicts the documentation of this function, and the live canary settles it.)
* **Sina ETF** ``fund_etf_hist_sina(symbol="sh510300")``: one GET of
  ``realstock/company/<sym>/hisdata_klc2/klc_kl.js`` (the stock kline's file, without the share-count call),
  the whole history, sorted by date; an empty decoded list gives ``pd.DataFrame()`` without columns. Columns
  ``date`` (``datetime.date``, via a tz-naive datetime), ``open high low close`` float64 (3 decimals),
  ``volume`` int64, ``amount`` when present. Volume is in **units (shares)**: akshare's documentation says 手,
  but its own sample (510050 on 2024-11-21: 738,982,704 at 2.79 CNY, a 2.1 bn CNY day; as lots, 206 bn) is in
  units.
* **Sina HK** ``stock_hk_daily(symbol="00700", adjust="")``: one GET of
  ``finance.sina.com.cn/stock/hkstock/<code>/klc2_kl.js``, the whole history; every column but ``date``
  (``datetime.date``) is cast to float64, volume included. Volume in **shares**, prices (3 decimals) and amount
  (when present) in HKD. ``qfq``/``hfq`` add a factor-table request (``qfq.js``/``hfq.js``), never made here.

All three Sina files are on finance.sina.com.cn, the host of ``stock_zh_a_daily``'s kline: one host family,
one rate limit and breaker. Tencent's index kline is the host of ``stock_zh_a_hist_tx``.
"""

from __future__ import annotations

from typing import Final

from quantdb_lab.domain.upstreams import Upstream
from quantdb_lab.providers.akshare.columns import BarEndpoint
from quantdb_lab.providers.akshare.query import HOST_FAMILIES, KLINE_HOST_FAMILY

SINA_FAMILY: Final = HOST_FAMILIES["stock_zh_index_daily"]
TENCENT_FAMILY: Final = HOST_FAMILIES["stock_zh_index_daily_tx"]
EASTMONEY_INDEX: Final = Upstream(
    name="eastmoney", host_family=KLINE_HOST_FAMILY, function="stock_zh_index_daily_em", adjustments=("",),
    adjustment_method="none (an index)", volume_unit="lots", price_decimals=2, history_start=None,
    date_filter="server", requests_per_call="1", kinds=("index",),
)  # fmt: skip
EASTMONEY_ETF: Final = Upstream(
    name="eastmoney", host_family=KLINE_HOST_FAMILY, function="fund_etf_hist_em", adjustments=("", "qfq", "hfq"),
    adjustment_method="Eastmoney's own (fqt)", volume_unit="lots", price_decimals=3, history_start=None,
    date_filter="server", requests_per_call="1", kinds=("etf",),
)  # fmt: skip
EASTMONEY_HK: Final = Upstream(
    name="eastmoney", host_family=KLINE_HOST_FAMILY, function="stock_hk_hist", adjustments=("", "qfq", "hfq"),
    adjustment_method="Eastmoney's own (fqt)", volume_unit="shares", price_decimals=3, history_start=None,
    date_filter="local", requests_per_call="1 (the whole history)", kinds=("hk",),
)  # fmt: skip
SINA_INDEX: Final = Upstream(
    name="sina", host_family=SINA_FAMILY, function="stock_zh_index_daily", adjustments=("",),
    adjustment_method="none (an index)", volume_unit="shares", price_decimals=3, history_start=None,
    date_filter="local", requests_per_call="1 (the whole history)", kinds=("index",),
)  # fmt: skip
TENCENT_INDEX: Final = Upstream(
    name="tencent", host_family=TENCENT_FAMILY, function="stock_zh_index_daily_tx", adjustments=("",),
    adjustment_method="none (an index; Tencent's qfq is the plain series)", volume_unit="lots", price_decimals=2,
    history_start=None, date_filter="local", requests_per_call="1 per calendar year from the start to the end",
    kinds=("index",),
)  # fmt: skip
SINA_ETF: Final = Upstream(
    name="sina", host_family=SINA_FAMILY, function="fund_etf_hist_sina", adjustments=("",),
    adjustment_method="none served (the fund's dividends: fund_etf_dividend_sina)", volume_unit="shares",
    price_decimals=3, history_start=None, date_filter="local", requests_per_call="1 (the whole history)",
    kinds=("etf",),
)  # fmt: skip
SINA_HK: Final = Upstream(
    name="sina", host_family=SINA_FAMILY, function="stock_hk_daily", adjustments=("", "qfq", "hfq"),
    adjustment_method="Sina's factor tables (qfq.js, hfq.js)", volume_unit="shares", price_decimals=3,
    history_start=None, date_filter="local", requests_per_call="1 (the whole history; +1 factor table)",
    kinds=("hk",),
)  # fmt: skip

_OHLCV: Final = ("date", "open", "high", "low", "close", "volume")
SINA_KLINE_COLUMNS: Final[dict[str, str]] = {c: c for c in (*_OHLCV, "amount")}
SINA_KLINE_IGNORED: Final = frozenset({"prevclose", "postVol", "postAmt"})  # records the decoder may add
SINA_KLINE_ORDER: Final = (*_OHLCV, "amount")
TENCENT_INDEX_COLUMNS: Final[dict[str, str]] = {"date": "date", "open": "open", "close": "close", "high": "high",
                                                "low": "low", "amount": "volume"}  # fmt: skip
TENCENT_INDEX_ORDER: Final = tuple(TENCENT_INDEX_COLUMNS)

STOCK_ZH_INDEX_DAILY: Final = BarEndpoint(
    "stock_zh_index_daily", SINA_KLINE_COLUMNS, SINA_KLINE_IGNORED, SINA_KLINE_ORDER,
    lot_size=1, date_form="date", accepts_timeout=False, percent=(), optional=frozenset({"amount"}),
)  # fmt: skip
STOCK_ZH_INDEX_DAILY_TX: Final = BarEndpoint(
    "stock_zh_index_daily_tx", TENCENT_INDEX_COLUMNS, frozenset(), TENCENT_INDEX_ORDER,
    lot_size=100, date_form="date", accepts_timeout=False, percent=(),
)  # fmt: skip
FUND_ETF_HIST_SINA: Final = BarEndpoint(
    "fund_etf_hist_sina", SINA_KLINE_COLUMNS, SINA_KLINE_IGNORED, SINA_KLINE_ORDER,
    lot_size=1, date_form="date", accepts_timeout=False, percent=(), optional=frozenset({"amount"}),
)  # fmt: skip
STOCK_HK_DAILY: Final = BarEndpoint(
    "stock_hk_daily", SINA_KLINE_COLUMNS, SINA_KLINE_IGNORED, SINA_KLINE_ORDER,
    lot_size=1, date_form="date", accepts_timeout=False, percent=(), optional=frozenset({"amount"}),
)  # fmt: skip
