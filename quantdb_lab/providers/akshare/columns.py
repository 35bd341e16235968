"""akshare's column names per endpoint (akshare 1.19.5), mapped to canonical names.

This module and its siblings are the only place in the package where Chinese column names appear. Each
``*_COLUMNS`` mapping is ``raw name -> canonical name`` and lists every column the endpoint must deliver; a
missing one is schema drift (``ProviderSchemaError``). ``*_IGNORED`` are columns we know and drop; anything
else is new upstream and dropped with a ``SchemaDriftWarning``. ``*_ORDER`` is akshare's exact output order,
used by the simulated upstream to mimic it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

# -- daily bars ---------------------------------------------------------------------------------------

STOCK_ZH_A_HIST_COLUMNS: Final[dict[str, str]] = {
    "日期": "date",
    "开盘": "open",
    "收盘": "close",
    "最高": "high",
    "最低": "low",
    "成交量": "volume",
    "成交额": "amount",
    "涨跌幅": "pct_change",
    "涨跌额": "change",
    "换手率": "turnover",
}
CODE_COLUMN: Final = "股票代码"  # the code as requested; ignored (the symbol comes from the request)
AMPLITUDE_COLUMN: Final = "振幅"  # (high - low) / previous close, percent; derivable, so ignored
STOCK_ZH_A_HIST_IGNORED: Final[frozenset[str]] = frozenset({CODE_COLUMN, AMPLITUDE_COLUMN})
STOCK_ZH_A_HIST_ORDER: Final[tuple[str, ...]] = (
    "日期", "股票代码", "开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅", "涨跌幅", "涨跌额", "换手率",
)  # fmt: skip

# fund_etf_hist_em and stock_hk_hist: the stock_zh_a_hist columns without 股票代码.
KLINE_COLUMNS: Final[dict[str, str]] = dict(STOCK_ZH_A_HIST_COLUMNS)
KLINE_IGNORED: Final[frozenset[str]] = frozenset({AMPLITUDE_COLUMN})
KLINE_ORDER: Final[tuple[str, ...]] = tuple(c for c in STOCK_ZH_A_HIST_ORDER if c != CODE_COLUMN)

# stock_zh_index_daily_em already answers in English (o/c/h/l order); still a mapping, so drift is caught.
STOCK_ZH_INDEX_DAILY_EM_COLUMNS: Final[dict[str, str]] = {
    "date": "date",
    "open": "open",
    "close": "close",
    "high": "high",
    "low": "low",
    "volume": "volume",
    "amount": "amount",
}
STOCK_ZH_INDEX_DAILY_EM_ORDER: Final[tuple[str, ...]] = tuple(STOCK_ZH_INDEX_DAILY_EM_COLUMNS)

# -- calendar and security master -----------------------------------------------------------------------

TOOL_TRADE_DATE_HIST_SINA_COLUMNS: Final[dict[str, str]] = {"trade_date": "date"}

STOCK_INFO_A_CODE_NAME_COLUMNS: Final[dict[str, str]] = {"code": "code", "name": "name"}

STOCK_BOARD_INDUSTRY_NAME_EM_COLUMNS: Final[dict[str, str]] = {"板块名称": "industry", "板块代码": "board_code"}
STOCK_BOARD_INDUSTRY_NAME_EM_ORDER: Final[tuple[str, ...]] = (
    "排名", "板块名称", "板块代码", "最新价", "涨跌额", "涨跌幅", "总市值", "换手率", "上涨家数", "下跌家数",
    "领涨股票", "领涨股票-涨跌幅",
)  # fmt: skip

STOCK_BOARD_INDUSTRY_CONS_EM_COLUMNS: Final[dict[str, str]] = {"代码": "code", "名称": "name"}
STOCK_BOARD_INDUSTRY_CONS_EM_ORDER: Final[tuple[str, ...]] = (
    "序号", "代码", "名称", "最新价", "涨跌幅", "涨跌额", "成交量", "成交额", "振幅", "最高", "最低", "今开",
    "昨收", "换手率", "市盈率-动态", "市净率",
)  # fmt: skip

# stock_individual_info_em is long (item/value); these are its items, in upstream order.
STOCK_INDIVIDUAL_INFO_EM_ITEMS: Final[dict[str, str]] = {
    "最新": "last",
    "股票代码": "code",
    "股票简称": "name",
    "总股本": "total_shares",
    "流通股": "float_shares",
    "总市值": "market_cap",
    "流通市值": "float_market_cap",
    "行业": "industry",
    "上市时间": "list_date",
}

# -- reference data for questions (quantdb_lab.query) ----------------------------------------------------

# futures_main_sina: a main contract's full daily history (Sina), filtered locally by akshare. Prices per the
# contract's quote unit (SC: CNY per barrel); volume and open interest in lots.
FUTURES_MAIN_SINA_COLUMNS: Final[dict[str, str]] = {
    "日期": "date",
    "开盘价": "open",
    "最高价": "high",
    "最低价": "low",
    "收盘价": "close",
    "成交量": "volume",
    "持仓量": "open_interest",
    "动态结算价": "settle",
}

# index_stock_cons_csindex: today's constituents of a CSI index (csindex.com.cn, an .xls file).
INDEX_STOCK_CONS_CSINDEX_COLUMNS: Final[dict[str, str]] = {"成分券代码": "code", "交易所": "exchange"}
INDEX_STOCK_CONS_CSINDEX_ORDER: Final[tuple[str, ...]] = (
    "日期", "指数代码", "指数名称", "指数英文名称", "成分券代码", "成分券名称", "成分券英文名称", "交易所",
    "交易所英文名称",
)  # fmt: skip

# -- endpoint descriptions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BarEndpoint:
    """How one akshare daily-bar function answers: columns, units and shape.

    ``lot_size`` is the number of shares per unit of the volume column. ``percent`` lists canonical columns the
    endpoint reports in percent (1.5 = 1.5 %). ``date_form`` is how akshare hands out the date column
    (``"date"``: an object column of ``datetime.date``; ``"str"``: ``'YYYY-MM-DD'`` strings). ``optional`` are
    raw columns of ``columns`` the answer may lack (Sina's decoded klines carry ``amount`` only when the payload
    does): a missing one is null, not schema drift.
    """

    function: str
    columns: dict[str, str]
    ignored: frozenset[str]
    order: tuple[str, ...]
    lot_size: int
    date_form: Literal["date", "str"]
    accepts_timeout: bool
    percent: tuple[str, ...] = ("pct_change", "turnover")
    optional: frozenset[str] = frozenset()


#: A-shares (SH/SZ/BJ). Volume in lots of 100 shares; amount CNY; 涨跌幅/换手率 percent.
STOCK_ZH_A_HIST: Final = BarEndpoint(
    "stock_zh_a_hist", STOCK_ZH_A_HIST_COLUMNS, STOCK_ZH_A_HIST_IGNORED, STOCK_ZH_A_HIST_ORDER,
    lot_size=100, date_form="date", accepts_timeout=True,
)  # fmt: skip

#: Exchange-traded funds. Volume in lots of 100 units (akshare's docs: 手); amount CNY; percent as above.
FUND_ETF_HIST_EM: Final = BarEndpoint(
    "fund_etf_hist_em", KLINE_COLUMNS, KLINE_IGNORED, KLINE_ORDER,
    lot_size=100, date_form="str", accepts_timeout=False,
)  # fmt: skip

#: Indices. Only OHLC, volume and amount (no turnover, pct_change or change: left null). Volume is taken to be
#: in lots of 100 shares like every other Eastmoney kline (its quote pages show index volume in 手); this is
#: not confirmed against a live response, so the live canary is the place to check it.
STOCK_ZH_INDEX_DAILY_EM: Final = BarEndpoint(
    "stock_zh_index_daily_em", STOCK_ZH_INDEX_DAILY_EM_COLUMNS, frozenset(), STOCK_ZH_INDEX_DAILY_EM_ORDER,
    lot_size=100, date_form="str", accepts_timeout=False, percent=(),
)  # fmt: skip

#: Hong Kong. Volume in shares (akshare's docs: 股); prices and amount in HKD, not CNY; percent as above.
STOCK_HK_HIST: Final = BarEndpoint(
    "stock_hk_hist", KLINE_COLUMNS, KLINE_IGNORED, KLINE_ORDER,
    lot_size=1, date_form="date", accepts_timeout=False,
)  # fmt: skip

BAR_ENDPOINTS: Final[dict[str, BarEndpoint]] = {
    e.function: e for e in (STOCK_ZH_A_HIST, FUND_ETF_HIST_EM, STOCK_ZH_INDEX_DAILY_EM, STOCK_HK_HIST)
}

# -- minute bars: stock_zh_a_hist_min_em, index_zh_a_hist_min_em, fund_etf_hist_min_em (akshare 1.19.5) ---------
# period "1" is Eastmoney's trends2 (the last 5 sessions): 时间 开盘 收盘 最高 最低 成交量 成交额 均价 (the index
# function names the last column 最新价); other periods are klines, with 涨跌幅 涨跌额 振幅 换手率 as well. 时间 is
# 'YYYY-MM-DD HH:MM:SS' (fund_etf_hist_min_em period "1" leaves trends2's 'YYYY-MM-DD HH:MM' and string numbers).
MINUTE_COLUMNS: Final[dict[str, str]] = {
    "时间": "time",
    "开盘": "open",
    "收盘": "close",
    "最高": "high",
    "最低": "low",
    "成交量": "volume",
    "成交额": "amount",
}
MINUTE_IGNORED: Final[frozenset[str]] = frozenset({"均价", "最新价", "涨跌幅", "涨跌额", "振幅", "换手率"})
MINUTE_1_ORDER: Final[tuple[str, ...]] = ("时间", "开盘", "收盘", "最高", "最低", "成交量", "成交额", "均价")
MINUTE_N_ORDER: Final[tuple[str, ...]] = (
    "时间", "开盘", "收盘", "最高", "最低", "涨跌幅", "涨跌额", "成交量", "成交额", "振幅", "换手率",
)  # fmt: skip
#: The akshare function serving each kind of symbol, and whether it takes ``adjust``.
MINUTE_FUNCTIONS: Final[dict[str, tuple[str, bool]]] = {
    "stock": ("stock_zh_a_hist_min_em", True),
    "index": ("index_zh_a_hist_min_em", False),
    "etf": ("fund_etf_hist_min_em", True),
}
MINUTE_LOT_SIZE: Final = 100  # volume in lots (手) for all three; 600519's recording: amount / close / volume ~ 100

# -- multi-modal sources (quantdb_lab.multimodal): company news and macro series ----------------------------

# stock_news_em: the latest 10 articles of an Eastmoney news search for a keyword (the 6-digit code).
STOCK_NEWS_EM_COLUMNS: Final[dict[str, str]] = {
    "新闻标题": "title",
    "新闻内容": "content",
    "发布时间": "published_at",
    "文章来源": "source",
    "新闻链接": "url",
}
STOCK_NEWS_EM_IGNORED: Final[frozenset[str]] = frozenset({"关键词"})  # the keyword as requested
STOCK_NEWS_EM_ORDER: Final[tuple[str, ...]] = ("关键词", "新闻标题", "新闻内容", "发布时间", "文章来源", "新闻链接")

# jin10 macro reports (macro_china_cpi_yearly and siblings): 日期 is the publication date, 今值 the figure.
JIN10_MACRO_COLUMNS: Final[dict[str, str]] = {"日期": "release_date", "今值": "value"}
JIN10_MACRO_IGNORED: Final[frozenset[str]] = frozenset({"商品", "预测值", "前值"})  # name, consensus, previous
JIN10_MACRO_ORDER: Final[tuple[str, ...]] = ("商品", "日期", "今值", "预测值", "前值")

# macro_china_shibor_all: one row per fixing day; <tenor>-定价 is the fixing, <tenor>-涨跌幅 its change (bp).
SHIBOR_TENORS: Final[tuple[str, ...]] = ("O/N", "1W", "2W", "1M", "3M", "6M", "9M", "1Y")
SHIBOR_COLUMNS: Final[dict[str, str]] = {"日期": "release_date", "O/N-定价": "value"}
SHIBOR_ORDER: Final[tuple[str, ...]] = ("日期", *(f"{t}-{k}" for t in SHIBOR_TENORS for k in ("定价", "涨跌幅")))

#: Macro series key -> the akshare function serving it (jin10 datacenter, all of them).
MACRO_FUNCTIONS: Final[dict[str, str]] = {
    "cpi": "macro_china_cpi_yearly",
    "ppi": "macro_china_ppi_yearly",
    "pmi": "macro_china_pmi_yearly",
    "m2": "macro_china_m2_yearly",
    "shibor": "macro_china_shibor_all",
}

# -- live quotes (quantdb_lab.realtime) --------------------------------------------------------------------

# stock_zh_a_spot_em: the whole A-share market, one row per stock. One akshare call is ~58 paged clist requests
# on push2 (pz capped at 100 since 2025-03), spaced ~1 s apart by akshare. 成交量 in lots (x100 -> shares);
# 涨跌幅 percent. No limit prices: they are derived from 昨收 and the board (ST names: 5 %).
STOCK_ZH_A_SPOT_EM_COLUMNS: Final[dict[str, str]] = {
    "代码": "code",
    "名称": "name",
    "最新价": "last",
    "涨跌幅": "pct_change",
    "成交量": "volume",
    "成交额": "amount",
    "最高": "high",
    "最低": "low",
    "今开": "open",
    "昨收": "prev_close",
}
STOCK_ZH_A_SPOT_EM_IGNORED: Final[frozenset[str]] = frozenset({
    "序号", "涨跌额", "振幅", "量比", "换手率", "市盈率-动态", "市净率", "总市值", "流通市值", "涨速", "5分钟涨跌",
    "60日涨跌幅", "年初至今涨跌幅",
})  # fmt: skip
STOCK_ZH_A_SPOT_EM_ORDER: Final[tuple[str, ...]] = (
    "序号", "代码", "名称", "最新价", "涨跌幅", "涨跌额", "成交量", "成交额", "振幅", "最高", "最低", "今开", "昨收",
    "量比", "换手率", "市盈率-动态", "市净率", "总市值", "流通市值", "涨速", "5分钟涨跌", "60日涨跌幅", "年初至今涨跌幅",
)  # fmt: skip
#: The name marker of special-treatment stocks (5 % limit on the main board).
ST_MARKER: Final = "ST"

# stock_bid_ask_em: one stock (push2 stock/get, a single request), long format item/value. 总手 in lots;
# 涨幅 percent; the exchange's own limit prices (涨停/跌停). The order-book items (sell_5 ... buy_5_vol) are
# ignored.
STOCK_BID_ASK_EM_ITEMS: Final[dict[str, str]] = {
    "最新": "last",
    "涨幅": "pct_change",
    "总手": "volume",
    "金额": "amount",
    "最高": "high",
    "最低": "low",
    "今开": "open",
    "昨收": "prev_close",
    "涨停": "limit_up",
    "跌停": "limit_down",
}
