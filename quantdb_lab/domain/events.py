"""Schemas of the daily event lists: the limit-up pool and the dragon-tiger list (market-wide, one list a session).

Limit-up pool (``LIMIT_UP_POOL``; Eastmoney's, akshare ``stock_zt_pool_em(date)``): the stocks that closed
the session at their limit-up price (not ST stocks, not the STAR board, not new listings still on an unbroken
run of one-price boards), one row per stock:

============  =========  =====================================================================
column        dtype      meaning and unit
============  =========  =====================================================================
date          Date       the trading session the row belongs to (never the date asked for)
symbol        String     canonical symbol
name          String     short name as listed that day
close         Float64    latest (closing) price, CNY (the wire sends it x 1000)
pct_change    Float64    change as a fraction (0.1001 = 10.01 %)
amount        Float64    turnover value, CNY
float_cap     Float64    free-float market value, CNY
total_cap     Float64    total market value, CNY
turnover      Float64    shares traded / free float, as a fraction
seal_fund     Float64    money on the bid at the limit price at the close, CNY
first_seal    Time       first time the price sealed at the limit
last_seal     Time       last time it sealed (after the last break)
breaks        Int64      times the seal broke during the session
streak        Int64      consecutive limit-up sessions ending this one
limit_stat    String     Eastmoney's limit-up count "days/count": limit-ups among the last ``days`` sessions
industry      String     Eastmoney industry board
============  =========  =====================================================================

Dragon-tiger list (``DRAGON_TIGER``; the exchanges' list as Eastmoney's data centre publishes it, akshare
``stock_lhb_detail_em(start_date, end_date)``): one row per stock and listing reason (a stock may be listed
twice a session, e.g. for a one-day and a three-day price deviation):

==============  =========  ===================================================================
date            Date       the trading session (the upstream's own TRADE_DATE)
symbol          String     canonical symbol
name            String     short name
reason          String     why it was listed (the exchange's rule, in Chinese upstream)
comment         String     Eastmoney's one-line reading
close           Float64    closing price, CNY
pct_change      Float64    change as a fraction
net_buy         Float64    listed seats' buys minus sells, CNY
buy             Float64    listed seats' buys, CNY
sell            Float64    listed seats' sells, CNY
deal_amount     Float64    listed seats' buys plus sells, CNY
market_amount   Float64    the stock's whole turnover value that day, CNY
net_buy_ratio   Float64    net_buy / market_amount, as a fraction
deal_ratio      Float64    deal_amount / market_amount, as a fraction
turnover        Float64    shares traded / free float, as a fraction
float_cap       Float64    free-float market value, CNY
==============  =========  ===================================================================

akshare's four after-listing columns (the change over the sessions *after* the listing) are not kept: the
upstream fills them in later, so a copy captured at the close has them empty and a later copy holds the future.
"""

from __future__ import annotations

from typing import Final

import polars as pl

LIMIT_UP_POOL: Final[dict[str, pl.DataType]] = {
    "date": pl.Date(), "symbol": pl.String(), "name": pl.String(), "close": pl.Float64(),
    "pct_change": pl.Float64(), "amount": pl.Float64(), "float_cap": pl.Float64(), "total_cap": pl.Float64(),
    "turnover": pl.Float64(), "seal_fund": pl.Float64(), "first_seal": pl.Time(), "last_seal": pl.Time(),
    "breaks": pl.Int64(), "streak": pl.Int64(), "limit_stat": pl.String(), "industry": pl.String(),
}  # fmt: skip

DRAGON_TIGER: Final[dict[str, pl.DataType]] = {
    "date": pl.Date(), "symbol": pl.String(), "name": pl.String(), "reason": pl.String(), "comment": pl.String(),
    "close": pl.Float64(), "pct_change": pl.Float64(), "net_buy": pl.Float64(), "buy": pl.Float64(),
    "sell": pl.Float64(), "deal_amount": pl.Float64(), "market_amount": pl.Float64(),
    "net_buy_ratio": pl.Float64(), "deal_ratio": pl.Float64(), "turnover": pl.Float64(), "float_cap": pl.Float64(),
}  # fmt: skip
