"""Schemas and timing rules of the non-price sources: company news and macro series.

News (``NEWS``), one row per article:

============  ======================  ==============================================================
column        dtype                   meaning
============  ======================  ==============================================================
symbol        String                  canonical symbol the search was for, e.g. ``600000.SH``
published_at  Datetime(Asia/Shanghai) when the article was published (upstream's local time)
title         String                  headline, tags stripped
content       String                  snippet or body as the upstream gives it
source        String                  publisher
url           String                  link to the article (the dedup key when news accumulates)
============  ======================  ==============================================================

Macro series (``MACRO``), one row per figure:

================  =======  ==========================================================================
column            dtype    meaning
================  =======  ==========================================================================
name              String   series key, one of ``MACRO_SERIES`` (``cpi``, ``ppi``, ``pmi``, ``m2``, ``shibor``)
period            Date     what the figure describes: the first day of the month (monthly series) or
                           the day itself (daily series)
release_date      Date     when the figure became public (exchange local date)
value             Float64  the figure, in the unit ``MACRO_SERIES[name].unit`` names
release_estimated Boolean  True when ``release_date`` is not the upstream's but derived by ``estimated_release``
================  =======  ==========================================================================

Release dates. akshare's jin10 series carry the publication date, which is kept. A source that only names the
month (a CSV of monthly figures, the simulated provider) gets a conservative estimate, always on or after the
real publication so a backtest can never see a figure early:

* CPI and PPI: NBS publishes them around the 9th-15th of the next month -> the 15th of the next month;
* PMI (official manufacturing): NBS publishes on the last day of the month or the 1st of the next -> the 1st of
  the next month;
* M2: the PBoC publishes around the 10th-17th of the next month -> the 18th of the next month;
* Shibor: fixed at 11:00 each business day -> the day itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from quantdb_lab.errors import InvalidRequestError

EXCHANGE_TZ_NAME: Final = "Asia/Shanghai"

NEWS: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "published_at": pl.Datetime("us", EXCHANGE_TZ_NAME),
    "title": pl.String(),
    "content": pl.String(),
    "source": pl.String(),
    "url": pl.String(),
}

MACRO: Final[dict[str, pl.DataType]] = {
    "name": pl.String(),
    "period": pl.Date(),
    "release_date": pl.Date(),
    "value": pl.Float64(),
    "release_estimated": pl.Boolean(),
}


@dataclass(frozen=True, slots=True)
class MacroSeries:
    """One macro series: what it measures, its frequency and its release rule (``lag_day`` of the next month,
    0 for a figure published the day it describes)."""

    name: str
    description: str
    unit: str
    frequency: str  # "monthly" or "daily"
    lag_day: int  # estimated release: this day of the month after the period (0: the period's own day)


MACRO_SERIES: Final[dict[str, MacroSeries]] = {
    "cpi": MacroSeries("cpi", "China CPI, year on year", "percent", "monthly", 15),
    "ppi": MacroSeries("ppi", "China PPI, year on year", "percent", "monthly", 15),
    "pmi": MacroSeries("pmi", "China official manufacturing PMI", "index (50 = no change)", "monthly", 1),
    "m2": MacroSeries("m2", "China M2 money supply, year on year", "percent", "monthly", 18),
    "shibor": MacroSeries("shibor", "Shibor overnight fixing", "percent a year", "daily", 0),
}


def macro_series(name: str) -> MacroSeries:
    try:
        return MACRO_SERIES[name.lower()]
    except KeyError:
        raise InvalidRequestError(f"unknown macro series {name!r}; choose one of {sorted(MACRO_SERIES)}",
                                  dataset="macro") from None  # fmt: skip


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def estimated_release(name: str, period: date) -> date:
    """The conservative release date of ``name``'s figure for ``period`` (see the module docstring)."""
    series = macro_series(name)
    if series.lag_day == 0:
        return period
    return next_month(period).replace(day=series.lag_day)


def period_of_release(name: str, release: date) -> date:
    """The period a figure published on ``release`` describes: the day itself for daily series; the previous
    month for monthly ones, except PMI published on the month's last days (it describes that month)."""
    series = macro_series(name)
    if series.frequency == "daily":
        return release
    if series.name == "pmi" and release.day >= 25:
        return month_start(release)
    return previous_month(release)
