"""Corporate actions (dividends, bonus and transfer shares, rights issues): their schema, the ex-rights reference
price they imply, factor events built from them, the check of price-derived factors against them, and the
affine adjustment Eastmoney applies with them. Pure.

Canonical actions (``ACTIONS``), one row per (symbol, ex-date) plan:

=================  =======  ==================================================================================
column             dtype    meaning
=================  =======  ==================================================================================
symbol             String   canonical symbol
announcement_date  Date     when the plan became public (the earliest announcement the source dates); an
                            action is visible from this day (point in time)
record_date        Date     the register date; null when not yet fixed
ex_date            Date     the ex-rights / ex-dividend date; null for a plan not yet implemented
cash               Float64  cash dividend per share before tax, CNY (sources give it per 10 shares)
bonus              Float64  bonus shares per share
transfer           Float64  shares transferred from reserves per share
rights_ratio       Float64  rights shares offered per share
rights_price       Float64  subscription price of a rights share, CNY
source             String   where the row came from (``eastmoney``, ``sina``, ``simulated``)
=================  =======  ==================================================================================

The exchange's reference price on the ex-date, from the previous close P (rounded to the tick by the exchange)::

    reference = (P - cash + rights_price * rights_ratio) / (1 + bonus + transfer + rights_ratio)

and the day's factor is ``P / reference`` (``domain.adjustment``).

Eastmoney's own qfq is not this multiplicative adjustment but the same map applied to every earlier price:
``qfq_t = m_k(...m_1(raw_t))`` for the events after t, ``m(p) = (p - cash + rp*rr) / (1 + b + t + rr)``, affine,
so its ratio to the raw price drifts between ex-dates and early prices can go negative; its hfq is (most
likely: the live canary records it) the inverse maps of the events up to t. ``eastmoney_adjust`` reproduces
both, for the simulated upstream and for cross-checks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final, Literal

import numpy as np
import polars as pl

from quantdb_lab.domain.adjustment import EVENTS, empty_events
from quantdb_lab.domain.releases import quarter_ends

ACTIONS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "announcement_date": pl.Date(),
    "record_date": pl.Date(),
    "ex_date": pl.Date(),
    "cash": pl.Float64(),
    "bonus": pl.Float64(),
    "transfer": pl.Float64(),
    "rights_ratio": pl.Float64(),
    "rights_price": pl.Float64(),
    "source": pl.String(),
}
AMOUNTS: Final[tuple[str, ...]] = ("cash", "bonus", "transfer", "rights_ratio")
CHECK: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "status": pl.String(),  # agree, disagree, price_only, actions_only
    "price_factor": pl.Float64(),
    "action_factor": pl.Float64(),
    "price_reference": pl.Float64(),
    "action_reference": pl.Float64(),
}
TICK: Final = 0.01


def empty_actions() -> pl.DataFrame:
    return pl.DataFrame(schema=ACTIONS)


def visible_actions(actions: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """The actions announced by ``as_of`` (all when None); a row without an announcement date counts from its
    record date, else its ex-date."""
    if as_of is None:
        return actions
    seen = pl.coalesce("announcement_date", "record_date", "ex_date")
    return actions.filter(seen <= as_of)


def combined(actions: pl.DataFrame) -> pl.DataFrame:
    """Implemented actions summed per (symbol, ex-date): a plan split over two rows (cash in one, shares in the
    other) is one ex-rights event. The rights price is the one of the row that has a rights ratio."""
    done = actions.filter(pl.col("ex_date").is_not_null())
    return (
        done.with_columns(pl.col(c).fill_null(0.0) for c in AMOUNTS)
        .group_by("symbol", "ex_date")
        .agg(*(pl.col(c).sum() for c in AMOUNTS),
             (pl.col("rights_price").fill_null(0.0) * pl.col("rights_ratio")).sum().alias("_paid"))
        .with_columns(
            pl.when(pl.col("rights_ratio") > 0).then(pl.col("_paid") / pl.col("rights_ratio")).otherwise(0.0)
            .alias("rights_price")
        )
        .drop("_paid")
        .sort("symbol", "ex_date")
    )


def reference_price(previous: pl.Expr, *, tick: float | None = TICK) -> pl.Expr:
    """The ex-rights reference price from the previous close, over columns ``cash, bonus, transfer,
    rights_ratio, rights_price``; rounded half up to ``tick`` as the exchange publishes it (None: unrounded)."""
    value = (previous - pl.col("cash") + pl.col("rights_price") * pl.col("rights_ratio")) / (
        1.0 + pl.col("bonus") + pl.col("transfer") + pl.col("rights_ratio")
    )
    return value if tick is None else (((value / tick).round(6) + 0.5).floor() * tick).round(6)


def events_from_actions(actions: pl.DataFrame, bars: pl.DataFrame, *, tick: float | None = TICK) -> pl.DataFrame:
    """``EVENTS`` built from the actions and the unadjusted closes of ``bars`` (``symbol, date, close``).

    Each implemented action lands on the first bar on or after its ex-date (a stock suspended on the ex-date
    goes ex-rights when it resumes); its previous close is the last traded close before that bar. Actions after
    the last bar, or before the first one, are left out: their previous close is not known."""
    done = combined(actions)
    if done.is_empty() or bars.is_empty():
        return empty_events()
    closes = bars.select("symbol", "date", "close").filter(pl.col("close") > 0).sort("symbol", "date")
    landed = done.sort("ex_date").join_asof(
        closes.select("symbol", pl.col("date").alias("_day"), pl.col("date").alias("ex_date")).sort("ex_date"),
        on="ex_date", by="symbol", strategy="forward", check_sortedness=False,
    )  # fmt: skip
    before = closes.select("symbol", (pl.col("date") + pl.duration(days=1)).alias("_after"), pl.col("close").alias("_prev"))
    landed = landed.filter(pl.col("_day").is_not_null()).sort("_day").join_asof(
        before.sort("_after"), left_on="_day", right_on="_after", by="symbol", strategy="backward",
        check_sortedness=False,
    )
    out = landed.filter(pl.col("_prev").is_not_null()).with_columns(reference_price(pl.col("_prev"), tick=tick).alias("reference"))
    out = out.filter(pl.col("reference") > 0).select(
        "symbol", pl.col("_day").alias("date"), (pl.col("_prev") / pl.col("reference")).alias("factor"), "reference"
    )
    return out.filter(pl.col("factor") > 1.0).sort("symbol", "date").cast(EVENTS)


def check_factors(price_events: pl.DataFrame, action_events: pl.DataFrame, *, tolerance: float = TICK + 1e-6) -> pl.DataFrame:
    """``CHECK`` rows: each price-derived event against the action-derived one of the same day. They agree when
    the reference prices differ by at most ``tolerance`` (a tick: the exchange rounds, the table does not)."""
    left = price_events.select("symbol", "date", pl.col("factor").alias("price_factor"),
                               pl.col("reference").alias("price_reference"))  # fmt: skip
    right = action_events.select("symbol", "date", pl.col("factor").alias("action_factor"),
                                 pl.col("reference").alias("action_reference"))  # fmt: skip
    both = left.join(right, on=["symbol", "date"], how="full", coalesce=True)
    status = (
        pl.when(pl.col("action_factor").is_null()).then(pl.lit("price_only"))
        .when(pl.col("price_factor").is_null()).then(pl.lit("actions_only"))
        .when((pl.col("price_reference") - pl.col("action_reference")).abs() <= tolerance).then(pl.lit("agree"))
        .otherwise(pl.lit("disagree"))
    )  # fmt: skip
    return both.with_columns(status.alias("status")).select(list(CHECK)).sort("symbol", "date").cast(CHECK)


def report_periods(first: date, last: date, *, lookback_days: int = 550) -> list[date]:
    """The quarter ends whose plans can go ex-rights in ``[first, last]``: from ``first - lookback_days`` (an
    annual plan is implemented within about 15 months of its period's end) to ``last``."""
    return quarter_ends(first - timedelta(days=lookback_days), last)


# -- Eastmoney's affine adjustment --------------------------------------------------------------------------
def eastmoney_adjust(
    bars: pl.DataFrame, actions: pl.DataFrame, how: Literal["qfq", "hfq"], *, tick: float = TICK
) -> pl.DataFrame:
    """One symbol's bars (sorted by date, the whole history the upstream has up to now) adjusted as Eastmoney
    does: affine maps from the dividend table, prices rounded to ``tick``, change and pct_change close to close
    within the adjusted series. qfq counts every implemented action up to the last bar."""
    if bars.is_empty():
        return bars
    last = bars["date"].max()
    done = combined(actions).filter(pl.col("ex_date") <= last)
    if done.is_empty():
        return bars
    s = 1.0 + done["bonus"].to_numpy() + done["transfer"].to_numpy() + done["rights_ratio"].to_numpy()
    a = 1.0 / s
    k = (done["rights_price"].to_numpy() * done["rights_ratio"].to_numpy() - done["cash"].to_numpy()) / s
    ex = done["ex_date"].to_physical().to_numpy()
    days = bars["date"].to_physical().to_numpy()
    n = len(ex)
    if how == "qfq":  # the events after t, applied in date order: suffix compositions
        big_a, big_k = np.ones(n + 1), np.zeros(n + 1)
        for j in range(n - 1, -1, -1):
            big_a[j], big_k[j] = big_a[j + 1] * a[j], big_a[j + 1] * k[j] + big_k[j + 1]
        at = np.searchsorted(ex, days, side="right")  # first event after the day
    else:  # the inverse maps of the events up to t, the latest first: prefix compositions
        big_a, big_k = np.ones(n + 1), np.zeros(n + 1)
        for j in range(n):
            big_a[j + 1], big_k[j + 1] = big_a[j] * s[j], big_a[j] * (-k[j] * s[j]) + big_k[j]
        at = np.searchsorted(ex, days, side="right")  # events up to the day
    slope, offset = pl.Series(big_a[at]), pl.Series(big_k[at])
    out = bars.with_columns(
        (((pl.col(c) * slope + offset) / tick).round(6) + 0.5).floor().mul(tick).round(6).alias(c)
        for c in ("open", "high", "low", "close")
    )  # fmt: skip
    previous = pl.col("close").shift(1)
    return out.with_columns(
        pl.when(previous.is_not_null()).then(pl.col("close") - previous).otherwise(pl.col("change") * slope).round(6)
        .alias("change"),
        pl.when(previous.is_not_null() & (previous != 0)).then(pl.col("close") / previous - 1.0)
        .otherwise(pl.col("pct_change")).alias("pct_change"),
    )  # fmt: skip
