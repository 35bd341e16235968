"""The simulated market's daily event lists, as Eastmoney serves them (``domain.events`` schemas).

* **Limit-up pool** of a session: the stocks whose bar closed at the limit-up price (``History.flag`` +1/+2;
  for the open session, the provisional bar at the clock's minute at its limit), ST and STAR-board stocks left
  out as upstream. Seal times and breaks are read off the session's minute path (a one-price board seals at
  09:25); the seal fund and total value are synthetic but stable. Asked for a date that is no session, it answers
  with the previous session's pool labelled with the date asked for: Eastmoney's quirk, reproduced.
* **Dragon-tiger list** of the sessions in a range: a row per stock and reason, for a change of at least 7 %
  either way, a turnover of at least 20 % or a range of at least 15 % of the reference price (the exchanges'
  rules compare the change with the index and list the top 5; the simulated market lists every such stock).
  Seats' buys and sells are synthetic but stable. Non-trading dates have no rows.
* Both forget: a session older than the dataset's ``upstream_sessions`` (the registry) gives no rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from quantdb_lab.domain.calendar import day_number, from_day_number
from quantdb_lab.domain.datasets import DRAGON_TIGER_LIST, LIMIT_UP, Dataset
from quantdb_lab.domain.events import DRAGON_TIGER, LIMIT_UP_POOL
from quantdb_lab.domain.schema import empty_frame
from quantdb_lab.providers.simulated.intraday import minute_end_times
from quantdb_lab.providers.simulated.universe import symbol_rng

_LHB_RULES = (  # the exchanges' rules, worded in English (the simulated market is not the exchanges')
    ("pct_change", 0.07, "daily gain of 7% or more"),
    ("pct_change", -0.07, "daily loss of 7% or more"),
    ("turnover", 0.20, "daily turnover of 20% or more"),
    ("range", 0.15, "daily range of 15% or more"),
)
_ONE_PRICE_SEAL = time(9, 25)


def kept_from(market, dataset: Dataset, latest: date | None) -> date | None:  # noqa: ANN001
    """The oldest session the simulated upstream still serves for ``dataset`` (as the registry declares)."""
    if latest is None:
        return None
    if dataset.upstream_sessions is None:
        return date.min
    days = market.calendar.session_days(latest - timedelta(days=2 * dataset.upstream_sessions + 30), latest)
    return from_day_number(int(days[-dataset.upstream_sessions]) if len(days) >= dataset.upstream_sessions else int(days[0]))


def _stocks(market, *, include_star: bool):  # noqa: ANN001, ANN202
    for symbol in market.symbols("stock"):
        profile = market.profile(symbol)
        if profile.board == "star" and not include_star:
            continue
        yield symbol, profile


def limit_up_pool(market, asked: date, now: datetime) -> pl.DataFrame:  # noqa: ANN001
    """The pool Eastmoney would answer for ``asked`` at ``now`` (labelled ``asked``, whatever session it is)."""
    vis = market.visibility(now)
    calendar = market.calendar
    session = asked if calendar.is_session(asked) else calendar.previous_session(asked)
    oldest = kept_from(market, LIMIT_UP, vis.latest)
    if session is None or vis.latest is None or session > vis.latest or session < oldest:
        return empty_frame(LIMIT_UP_POOL)
    day = day_number(session)
    open_session = session == vis.latest and not vis.settled
    rows = []
    for symbol, profile in _stocks(market, include_star=False):
        if profile.st_since is not None and profile.st_since <= session:
            continue
        history = market.history(symbol)
        row = int(np.searchsorted(history.days, day))
        if row == 0 or row >= len(history.days) or history.days[row] != day:
            continue
        if open_session:
            bar = market.bars(symbol, session, session, now=now)
            if bar.is_empty() or not _at_limit(profile, history, row, float(bar["close"][0])):
                continue
            close, pct, amount, turnover = (float(bar[c][0]) for c in ("close", "pct_change", "amount", "turnover"))
        elif history.flag[row] in (1, 2):
            close, pct = float(history.close[row]), float(history.pct_change[row])
            amount, turnover = float(history.amount[row]), float(history.turnover[row])
        else:
            continue
        first, last, breaks = _seals(market, symbol, history, row, now if open_session else None)
        streak = _streak(history.flag, row)
        rng = symbol_rng(market.seed, symbol, 1_000_000 + day)
        float_cap = close * profile.float_shares
        rows.append((asked, symbol, profile.name, close, pct, amount, float_cap, float_cap * (1.2 + rng.random()),
                     turnover, round(amount * rng.uniform(0.05, 0.6), 0), first, last, breaks, streak,
                     f"{max(streak, 1)}/{streak}", profile.industry))  # fmt: skip
    if not rows:
        return empty_frame(LIMIT_UP_POOL)
    return pl.DataFrame(rows, schema=LIMIT_UP_POOL, orient="row")


def dragon_tiger(market, start: date, end: date, now: datetime) -> pl.DataFrame:  # noqa: ANN001
    """The dragon-tiger list of the sessions in ``[start, end]`` that the upstream still keeps at ``now``."""
    vis = market.visibility(now)
    oldest = kept_from(market, DRAGON_TIGER_LIST, vis.latest)
    if vis.latest is None or not vis.settled and end >= vis.latest:  # published after the close
        end = market.calendar.previous_session(vis.latest) if vis.latest is not None else end
    if end is None or oldest is None:
        return empty_frame(DRAGON_TIGER)
    first, last = max(start, oldest), min(end, vis.latest)
    if first > last:
        return empty_frame(DRAGON_TIGER)
    lo, hi = day_number(first), day_number(last)
    rows = []
    for symbol, profile in _stocks(market, include_star=True):
        history = market.history(symbol)
        a, b = np.searchsorted(history.days, [lo, hi + 1])
        a = max(int(a), 1)
        for row in range(a, int(b)):
            ref = float(history.ref[row])
            values = {"pct_change": float(history.pct_change[row]), "turnover": float(history.turnover[row]),
                      "range": (float(history.high[row]) - float(history.low[row])) / ref}  # fmt: skip
            for column, threshold, reason in _LHB_RULES:
                value = values[column]
                if not (value >= threshold if threshold > 0 else value <= threshold):
                    continue
                rows.append(_lhb_row(market, symbol, profile, history, row, reason))
    if not rows:
        return empty_frame(DRAGON_TIGER)
    return pl.DataFrame(rows, schema=DRAGON_TIGER, orient="row").sort(["symbol", "date"])


def _lhb_row(market, symbol, profile, history, row, reason):  # noqa: ANN001, ANN202
    day = int(history.days[row])
    rng = symbol_rng(market.seed, symbol, 2_000_000 + day)
    amount = float(history.amount[row])
    buy, sell = (round(amount * rng.uniform(0.03, 0.25), 2) for _ in range(2))
    close = float(history.close[row])
    comment = "net buying" if buy >= sell else "net selling"
    return (from_day_number(day), symbol, profile.name, reason, comment, close, float(history.pct_change[row]),
            buy - sell, buy, sell, buy + sell, amount, (buy - sell) / amount, (buy + sell) / amount,
            float(history.turnover[row]), close * profile.float_shares)  # fmt: skip


def _at_limit(profile, history, row: int, close: float) -> bool:  # noqa: ANN001
    limit = 0.05 if profile.st_since is not None else {"main": 0.10, "chinext": 0.20, "beijing": 0.30}.get(profile.board, 0.10)
    scale = history.tick_scale
    price = np.floor(float(history.ref[row]) * (1 + limit) * scale + 0.5) / scale
    return close >= price - 0.5 / scale


def _seals(market, symbol: str, history, row: int, now: datetime | None) -> tuple[time, time, int]:  # noqa: ANN001
    """First and last seal times and breaks, off the session's minute path (a one-price board: 09:25, none)."""
    session = from_day_number(int(history.days[row]))
    if history.flag[row] == 2:
        return _ONE_PRICE_SEAL, _ONE_PRICE_SEAL, 0
    path = market.intraday_path(symbol, session, now=now)
    if path.is_empty():
        return _ONE_PRICE_SEAL, _ONE_PRICE_SEAL, 0
    top = float(path["high"].max())
    sealed = (path["close"] >= top - 1e-9).to_numpy()
    times = [moment.time() for moment in minute_end_times(session)[: len(sealed)]]
    if not sealed.any():
        return times[-1], times[-1], 0
    first = int(np.argmax(sealed))
    starts = np.flatnonzero(sealed & ~np.concatenate([[False], sealed[:-1]]))
    return times[first], times[int(starts[-1])], max(len(starts) - 1, 0)


def _streak(flags: np.ndarray, row: int) -> int:
    count = 0
    while row - count >= 0 and flags[row - count] in (1, 2):
        count += 1
    return count
