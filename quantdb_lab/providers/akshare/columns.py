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

# -- endpoint descriptions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BarEndpoint:
    """How one akshare daily-bar function answers: columns, units and shape.

    ``lot_size`` is the number of shares per unit of the volume column. ``percent`` lists canonical columns the
    endpoint reports in percent (1.5 = 1.5 %). ``date_form`` is how akshare hands out the date column
    (``"date"``: an object column of ``datetime.date``; ``"str"``: ``'YYYY-MM-DD'`` strings).
    """

    function: str
    columns: dict[str, str]
    ignored: frozenset[str]
    order: tuple[str, ...]
    lot_size: int
    date_form: Literal["date", "str"]
    accepts_timeout: bool
    percent: tuple[str, ...] = ("pct_change", "turnover")


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
