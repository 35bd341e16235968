"""Replay: the live pipeline on a simulated session at N x speed, so trading-mode logic runs any time.

A ``FixedClock`` starts at ``start_time``; after each poll it is advanced by ``interval`` simulated seconds,
and the poller then waits ``interval / speed`` real seconds (``speed=float("inf")``: no wait). The
Lab behind it is a trading-mode Lab on a ``SimulatedProvider`` sharing that clock, in its own cache directory,
so quotes go through the same freshness cache, snapshot file, throttle and processors as a live watch.

>>> w = replay(date(2024, 6, 3), ["600519", "000001.SZ"], speed=120)   # doctest: +SKIP
>>> w.subscribe(LimitHit, print); w.join(); w.stop()                     # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from quantdb_lab.domain.calendar import SESSION_CLOSE, SESSION_OPEN
from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.realtime.lab_watch import watch
from quantdb_lab.realtime.watcher import Watcher


def replay_lab(session: date, *, seed: int = 7, n_stocks: int = 300, cache_dir: str | Path | None = None,
               start: time = SESSION_OPEN) -> Any:  # fmt: skip
    """A trading-mode Lab on a simulated market whose FixedClock stands at ``session`` ``start``."""
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider

    clock = FixedClock(datetime.combine(session, start, tzinfo=EXCHANGE_TZ))
    market = SimulatedMarket(seed=seed, n_stocks=n_stocks, clock=clock)
    if not market.calendar.is_session(session):
        raise InvalidRequestError(f"{session.isoformat()} is not a trading session", start=session, end=session)
    directory = Path(cache_dir) if cache_dir is not None else Path(tempfile.mkdtemp(prefix="qdb-replay-"))
    return Lab(directory, SimulatedProvider(market, clock=clock), mode="trading", clock=clock, usage_log=False)


def replay(
    session: date,
    symbols: Any = None,
    *,
    speed: float = 60.0,
    interval: float = 60.0,
    seed: int = 7,
    n_stocks: int = 300,
    cache_dir: str | Path | None = None,
    start_time: time = time(9, 31),
    end_time: time = SESSION_CLOSE,
    lab: Any = None,
    **options: Any,
) -> Watcher:
    """A started Watcher replaying ``session`` from ``start_time`` to ``end_time`` (exchange time) at ``speed`` x.

    ``lab``: a Lab from :func:`replay_lab` to reuse (its clock must be a FixedClock); otherwise one is made.
    ``options`` go to :func:`quantdb_lab.realtime.lab_watch.watch` (``baseline``, ``spike_ratio``, ``start=False``
    to subscribe before the first poll...).
    """
    if speed <= 0:
        raise InvalidRequestError(f"speed must be positive, not {speed!r}")
    lab = lab if lab is not None else replay_lab(session, seed=seed, n_stocks=n_stocks, cache_dir=cache_dir,
                                                 start=start_time)  # fmt: skip
    clock = lab.clock
    if not isinstance(clock, FixedClock):
        raise InvalidRequestError("a replay needs a Lab whose clock is a FixedClock (see replay_lab)")
    clock.current = datetime.combine(session, start_time, tzinfo=EXCHANGE_TZ)
    finish = datetime.combine(session, end_time, tzinfo=EXCHANGE_TZ)
    real_wait = 0.0 if speed == float("inf") else interval / speed

    def pace(seconds: float, stop: threading.Event) -> None:
        clock.advance(seconds)
        if real_wait:
            stop.wait(real_wait)

    return watch(lab, symbols, interval=interval, pace=pace, until=lambda: clock.now() > finish, **options)
