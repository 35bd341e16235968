"""Build query: which akshare function serves a symbol's daily bars, and with which arguments.

Dates go out as ``YYYYMMDD``; symbols in the endpoint's own form (``600519``, ``510300``, ``sh000300``,
``csi931151``, ``00700``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.errors import InvalidDateRangeError, InvalidRequestError, InvalidSymbolError
from quantdb_lab.providers.akshare.columns import (
    FUND_ETF_HIST_EM,
    STOCK_HK_HIST,
    STOCK_ZH_A_HIST,
    STOCK_ZH_INDEX_DAILY_EM,
    BarEndpoint,
)
from quantdb_lab.providers.base import ADJUSTMENTS

#: Upstream host families, the unit of rate limiting and circuit breaking (Eastmoney bans per IP and host).
KLINE_HOST_FAMILY: Final = "eastmoney_push2his"  # every daily-bar endpoint here, HK included (33.push2his)
HOST_FAMILIES: Final[dict[str, str]] = {
    "stock_zh_a_hist": KLINE_HOST_FAMILY,
    "fund_etf_hist_em": KLINE_HOST_FAMILY,
    "stock_zh_index_daily_em": KLINE_HOST_FAMILY,
    "stock_hk_hist": KLINE_HOST_FAMILY,
    "stock_zh_a_daily": "sina_kline",  # the alternative sources of A-share bars (providers.akshare.bar_sources)
    "stock_zh_a_hist_tx": "tencent",
    "stock_zh_index_daily": "sina_kline",  # the alternatives for indices, ETFs and HK (providers.akshare.kind_sources)
    "fund_etf_hist_sina": "sina_kline",
    "stock_hk_daily": "sina_kline",
    "stock_zh_index_daily_tx": "tencent",
    "stock_zh_a_hist_min_em": KLINE_HOST_FAMILY,  # trends2 and kline on push2his, for all three minute functions
    "index_zh_a_hist_min_em": KLINE_HOST_FAMILY,
    "fund_etf_hist_min_em": KLINE_HOST_FAMILY,
    "tool_trade_date_hist_sina": "sina",
    "stock_info_a_code_name": "exchanges",  # sse.com.cn, szse.cn, bse.cn
    "stock_board_industry_name_em": "eastmoney_push2",  # clist
    "stock_board_industry_cons_em": "eastmoney_push2",
    "futures_main_sina": "sina",
    "stock_zh_a_spot_em": "eastmoney_push2",  # clist, ~58 paged requests per call
    "stock_bid_ask_em": "eastmoney_push2",  # stock/get, one request per symbol
    "index_stock_cons_csindex": "csindex",  # an .xls on oss-ch.csindex.com.cn; the throttle's fallback limit
    "stock_news_em": "eastmoney_search",  # search-api-web.eastmoney.com, over curl_cffi
    "stock_fhps_detail_em": "eastmoney_datacenter",  # datacenter-web.eastmoney.com: stayed up through push2 bans
    "stock_history_dividend_detail": "sina",
    "stock_fhps_em": "eastmoney_datacenter",  # one reporting period of every stock, pages of 500
    "stock_pg_em": "eastmoney_datacenter",  # every rights issue, one request
    "stock_zt_pool_em": "eastmoney_push2ex",  # push2ex.eastmoney.com/getTopicZTPool, one request per date
    "stock_lhb_detail_em": "eastmoney_datacenter",  # RPT_DAILYBILLBOARD_DETAILSNEW, pages of 5,000 rows
    "stock_info_sh_delist": "exchanges",  # query.sse.com.cn and szse.cn (the SZSE list is an .xlsx)
    "stock_info_sz_delist": "exchanges",
    "stock_info_sz_change_name": "exchanges",
    "stock_zh_a_st_em": "eastmoney_push2",  # clist (40.push2), pages of 100: the risk-warning board
    "stock_yjkb_em": "eastmoney_datacenter",  # datacenter.eastmoney.com/securities, pages of 500, a period a call
    "stock_yjyg_em": "eastmoney_datacenter",
    "stock_yjbb_em": "eastmoney_datacenter",  # datacenter-web.eastmoney.com  # szse.cn, an .xlsx of every short-name change
    **{f"stock_{n}_by_report_em": "eastmoney_emweb" for n in ("balance_sheet", "profit_sheet", "cash_flow_sheet")},
    **{f"macro_china_{n}": "jin10" for n in ("cpi_yearly", "ppi_yearly", "pmi_yearly", "m2_yearly", "shibor_all")},
}


@dataclass(frozen=True, slots=True)
class BarsQuery:
    endpoint: BarEndpoint
    kwargs: dict[str, str]


def endpoint_for(symbol: Symbol) -> BarEndpoint:
    if symbol.exchange == "HK":
        return STOCK_HK_HIST
    if symbol.kind == "index":
        return STOCK_ZH_INDEX_DAILY_EM
    if symbol.kind == "etf":
        return FUND_ETF_HIST_EM
    if symbol.kind == "stock":
        return STOCK_ZH_A_HIST
    raise InvalidSymbolError(f"akshare serves no daily bars for a {symbol.kind}", symbol=symbol.canonical)


def index_symbol(symbol: Symbol) -> str:
    """``stock_zh_index_daily_em``'s form: CSI-only indices (93xxxx) use ``csi``, others their exchange."""
    if symbol.exchange == "SH" and symbol.code.startswith("93"):
        return f"csi{symbol.code}"
    return f"{symbol.exchange.lower()}{symbol.code}"


def yyyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def build_bars_query(symbol: Symbol, start: date, end: date, *, adjust: str = "") -> BarsQuery:
    """The call that serves ``symbol``'s daily bars in ``[start, end]``.

    ``adjust`` is passed through for stocks, ETFs and HK. Indices have no adjustment: every ``adjust`` gets
    the same (unadjusted) series, i.e. an adjustment factor of 1.
    """
    if adjust not in ADJUSTMENTS:
        raise InvalidRequestError(f"adjust must be one of {ADJUSTMENTS}, not {adjust!r}", symbol=symbol.canonical)
    if start > end:
        raise InvalidDateRangeError("end is before start", symbol=symbol.canonical, start=start, end=end)
    endpoint = endpoint_for(symbol)
    dates = {"start_date": yyyymmdd(start), "end_date": yyyymmdd(end)}
    if endpoint is STOCK_ZH_INDEX_DAILY_EM:
        return BarsQuery(endpoint, {"symbol": index_symbol(symbol), **dates})
    return BarsQuery(endpoint, {"symbol": symbol.code, "period": "daily", **dates, "adjust": adjust})
