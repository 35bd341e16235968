"""Synthetic company news and macro series for the simulated provider. NOT REAL DATA.

News: on about one calendar day in four a stock gets a headline, drawn from ``news_templates.json`` (package
data: headlines are Chinese or English text, which stays out of ``.py`` files) with a known sentiment label,
published at a random minute between 07:00 and 22:00 exchange time (so some arrive after the close and
belong to the next session). ``news_frame`` returns the label too, which tests use as ground truth.

Macro: each series is an AR(1) walk around a plausible level, one figure a month (Shibor: one a session),
released on ``domain.sources.estimated_release`` (``release_estimated`` is True). Deterministic in
``(seed, symbol)`` / ``(seed, name)``; only what is published by ``now`` is returned.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.sources import EXCHANGE_TZ_NAME, MACRO, NEWS, estimated_release, macro_series, next_month
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.providers.simulated.universe import symbol_rng

NEWS_START: Final = date(2015, 1, 1)
MACRO_START: Final = date(2005, 1, 1)
SHIBOR_TIME: Final = 11  # the fixing is published at 11:00
_LEVELS: Final[dict[str, tuple[float, float, float]]] = {  # mean, AR(1) coefficient, shock sd
    "cpi": (2.0, 0.9, 0.4), "ppi": (0.5, 0.93, 0.9), "pmi": (50.2, 0.7, 0.8), "m2": (11.0, 0.95, 0.6),
    "shibor": (2.0, 0.98, 0.08),
}  # fmt: skip


@cache
def templates() -> dict[str, tuple[str, ...]]:
    text = resources.files("quantdb_lab.providers.simulated").joinpath("news_templates.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return {label: tuple(data[label]) for label in ("positive", "negative")}


def news_frame(seed: int, symbol: Symbol, now: datetime) -> pl.DataFrame:
    """Synthetic articles about ``symbol`` published by ``now``: the ``NEWS`` columns plus ``label``
    (``"positive"``/``"negative"``, the generator's truth)."""
    days = (now.date() - NEWS_START).days + 1
    rng = symbol_rng(seed, f"news:{symbol.canonical}", 0)
    horizon = 366 * 15  # drawn to a fixed horizon so past articles never depend on now
    has_news = rng.random(horizon) < 0.25
    positive = rng.random(horizon) < 0.55
    pick = rng.integers(0, 1 << 30, horizon)
    minute = rng.integers(7 * 60, 22 * 60, horizon)
    book = templates()
    rows = []
    for i in np.flatnonzero(has_news[: max(days, 0)]):
        label = "positive" if positive[i] else "negative"
        choices = book[label]
        title = choices[int(pick[i]) % len(choices)].replace("{code}", symbol.code)
        stamp = datetime.combine(NEWS_START + timedelta(days=int(i)), datetime.min.time()) + timedelta(
            minutes=int(minute[i]))  # fmt: skip
        rows.append((symbol.canonical, stamp, title, title, "Simulated wire", f"sim://news/{symbol.code}/{i}", label))
    schema = {**NEWS, "published_at": pl.Datetime("us"), "label": pl.String()}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    frame = frame.filter(pl.col("published_at") <= now.replace(tzinfo=None))
    frame = frame.with_columns(pl.col("published_at").dt.replace_time_zone(EXCHANGE_TZ_NAME))
    return frame.select(*NEWS, "label")


def macro_frame(seed: int, name: str, now: datetime, calendar: TradingCalendar) -> pl.DataFrame:
    """A synthetic macro series with every figure released by ``now``, ``MACRO`` schema."""
    series = macro_series(name)
    mean, phi, sd = _LEVELS[series.name]
    if series.frequency == "daily":
        today = now.date()
        periods = calendar.sessions(MACRO_START, today)
        if periods and periods[-1] == today and now.hour < SHIBOR_TIME:
            periods = periods[:-1]
    else:
        periods, month = [], MACRO_START
        while estimated_release(series.name, month) <= now.date():
            periods.append(month)
            month = next_month(month)
    rng = symbol_rng(seed, f"macro:{series.name}", 0)
    shocks = rng.standard_normal(max(len(periods), 1)) * sd
    values, level = [], mean
    for shock in shocks[: len(periods)]:
        level = mean + phi * (level - mean) + shock
        values.append(round(level, 2 if series.frequency == "daily" else 1))
    return pl.DataFrame({
        "name": series.name, "period": periods, "release_date": [estimated_release(series.name, p) for p in periods],
        "value": values, "release_estimated": True,
    }, schema=MACRO)  # fmt: skip
