"""Daily price limits by board, date and ST status, measured from the reference close the source reports.

Rules (percent of the reference previous close; none before 1996-12-16 when limits began):

=========  ========================  =====================================================
board      limit                     ST
=========  ========================  =====================================================
main       10 %                      5 % (10 % from 2025-07-07, when the exchanges aligned it)
chinext    10 %, 20 % from 2020-08-24  5 %, 20 % from 2020-08-24
star       20 %                      20 %
beijing    30 %                      30 %
etf        10 %                      -
=========  ========================  =====================================================

No limit on the listing day; none on the first five sessions on STAR, on ChiNext from 2020-08-24 and on the
main board from 2023-04-10 (registration-based IPOs). When the listing date is unknown the frame's first rows
get the benefit of the doubt. The reference close is ``close - change`` (the exchange's ex-rights price on
an ex-date), so a dividend is never a violation. A tick of rounding plus ``limit_slack`` is tolerated.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.quality.issues import ERROR, emit, fmt, text
from quantdb_lab.quality.params import QualityParams

LIMITS_FROM = date(1996, 12, 16)
CHINEXT_REFORM = date(2020, 8, 24)
MAIN_REGISTRATION = date(2023, 4, 10)
MAIN_ST_ALIGNED = date(2025, 7, 7)
_TICK = 0.01


def limit_expr() -> pl.Expr:
    """Limit fraction of each row (null where none applies)."""
    day, board = pl.col("date"), pl.col("_board")
    st = pl.col("_st_since").is_not_null() & (day >= pl.col("_st_since"))
    limit = (
        pl.when(day < LIMITS_FROM).then(None)
        .when(board == "main").then(pl.when(st & (day < MAIN_ST_ALIGNED)).then(0.05).otherwise(0.10))
        .when(board == "chinext").then(
            pl.when(day >= CHINEXT_REFORM).then(0.20).when(st).then(0.05).otherwise(0.10)
        )
        .when(board == "star").then(0.20)
        .when(board == "beijing").then(0.30)
        .when(board == "etf").then(0.10)
        .otherwise(None)
    )  # fmt: skip
    return limit.cast(pl.Float64)


def free_sessions_expr(params: QualityParams) -> pl.Expr:
    """Sessions after listing without a limit."""
    day, board = pl.col("date"), pl.col("_board")
    return (
        pl.when(board == "star").then(5)
        .when((board == "chinext") & (day >= CHINEXT_REFORM)).then(5)
        .when((board == "main") & (day >= MAIN_REGISTRATION)).then(5)
        .otherwise(params.first_free_sessions)
    )  # fmt: skip


def check_price_limits(ctx: pl.DataFrame, params: QualityParams) -> pl.DataFrame:
    """High above the limit-up price or low below the limit-down price of the row's reference close, at the
    traded price level (see ``traded_offset``: percentages on additive qfq prices are meaningless)."""
    listed_here = pl.col("_list_date").is_null() | (pl.col("_list_date") >= pl.col("date").first().over("symbol"))
    exempt = listed_here & (pl.col("_i") < free_sessions_expr(params))
    rows = ctx.with_columns(limit_expr().alias("_limit")).with_columns(
        (pl.col("_ref") + pl.col("_offset")).alias("_lref"),
        (pl.col("high") + pl.col("_offset")).alias("_lhigh"),
        (pl.col("low") + pl.col("_offset")).alias("_llow"),
    )
    ref = pl.col("_lref")
    positive = pl.min_horizontal("open", "high", "low", "close") > 0  # others are nonpositive_price's
    rows = rows.filter(pl.col("_limit").is_not_null() & ~exempt & positive & (ref > 0) & (pl.col("_llow") > 0))
    slack = params.limit_slack * params.scale("price_limit")
    up = ref * (1.0 + pl.col("_limit")) + _TICK + slack * ref
    down = ref * (1.0 - pl.col("_limit")) - _TICK - slack * ref
    # Multiplicative adjustment (hfq, Tushare qfq) keeps ratios, additive (Eastmoney qfq) keeps differences:
    # a violation must show on the prices as given and at the traded level alone does not decide.
    plain = pl.col("_ref")
    plain_up = plain * (1.0 + pl.col("_limit")) + _TICK + slack * plain
    plain_down = plain * (1.0 - pl.col("_limit")) - _TICK - slack * plain
    plain_broken = (plain <= 0) | (pl.col("low") <= 0) | (pl.col("high") > plain_up) | (pl.col("low") < plain_down)
    rows = rows.filter(((pl.col("_lhigh") > up) | (pl.col("_llow") < down)) & plain_broken)
    move = pl.when(pl.col("_lhigh") > up).then(pl.col("_lhigh") / ref - 1.0).otherwise(pl.col("_llow") / ref - 1.0)
    detail = text(
        "{} board limit {}%: price moved {}% from the reference close {} (traded level)",
        "_board", fmt(pl.col("_limit") * 100, 1), fmt(move * 100, 2), fmt(ref, 3),
    )  # fmt: skip
    return emit(rows, "price_limit", ERROR, detail)
