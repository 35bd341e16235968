"""Real time: live quotes through a freshness cache, an event pipeline, and replays of simulated sessions.

::

    lab.quotes(["600519", "000001.SZ"])            # a snapshot (polars), fetched at most once a minute
    w = lab.watch(["600519", "000001.SZ"])           # a started Watcher
    w.subscribe(LimitHit, lambda e: print(e))
    w.status(); w.stop()
    w = replay(date(2024, 6, 3), ["600519"], speed=120)   # the same pipeline on a simulated session

Layer: above ``quantdb_lab.lab`` (it drives a Lab), below ``quantdb_lab.ui``.
"""

from quantdb_lab.realtime.bus import EventBus, Subscription
from quantdb_lab.realtime.events import (
    EVENT_TYPES,
    BreakerClosed,
    BreakerOpened,
    Event,
    Halt,
    LimitHit,
    LimitRelease,
    MarketClosed,
    PriceUpdate,
    VolumeSpike,
)
from quantdb_lab.realtime.lab_watch import baseline_volumes, quotes, watch
from quantdb_lab.realtime.processors import Pipeline
from quantdb_lab.realtime.quote_service import QuoteService
from quantdb_lab.realtime.replay import replay, replay_lab
from quantdb_lab.realtime.watcher import Watcher

__all__ = [
    "EVENT_TYPES",
    "BreakerClosed",
    "BreakerOpened",
    "Event",
    "EventBus",
    "Halt",
    "LimitHit",
    "LimitRelease",
    "MarketClosed",
    "Pipeline",
    "PriceUpdate",
    "QuoteService",
    "Subscription",
    "VolumeSpike",
    "Watcher",
    "baseline_volumes",
    "quotes",
    "replay",
    "replay_lab",
    "watch",
]
