"""The event pipeline on a replayed simulated session, against expected events computed independently from
the simulated market's minute bars and daily bars (not from the processors or the quote builder)."""

from __future__ import annotations

import math
from datetime import date, datetime, time

import polars as pl
import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.providers.simulated import SimulatedMarket
from quantdb_lab.realtime import Event, Halt, LimitHit, LimitRelease, PriceUpdate, VolumeSpike, replay

SESSION = date(2024, 3, 5)
PREVIOUS = date(2024, 3, 4)
LIMITED = ["301716.SZ", "600000.SH", "601767.SH"]  # closed at a limit that day (two up, one down)
SUSPENDED = "604262.SH"
QUIET = ["000001.SZ", "600519.SH"]
LIMIT_PCT = {"301716.SZ": 0.20, "600000.SH": 0.10, "601767.SH": 0.10}
AFTER = datetime(2024, 3, 5, 23, 0, tzinfo=EXCHANGE_TZ)


def _half_up(value: float) -> float:
    return math.floor(value * 100 + 0.5 + 1e-9) / 100


@pytest.fixture(scope="module")
def market():
    return SimulatedMarket(seed=7)


@pytest.fixture(scope="module")
def run(market, tmp_path_factory):
    day_volume = {s: market.bars(s, SESSION, SESSION, now=AFTER)["volume"][0] for s in QUIET}
    baseline = pl.DataFrame({"symbol": QUIET, "baseline_volume": [day_volume["000001.SZ"] / 1000,
                                                                  day_volume["600519.SH"] * 100]})
    watcher = replay(SESSION, [*LIMITED, SUSPENDED, *QUIET], speed=float("inf"), baseline=baseline,
                     cache_dir=tmp_path_factory.mktemp("replay"), start=False)
    events: list[Event] = []
    watcher.subscribe(Event, events.append)
    watcher.start()
    assert watcher.join(30)
    assert watcher.stop() == []
    return watcher, events


def _minute_closes(market, symbol):
    return market.intraday_path(symbol, SESSION, now=AFTER)


def test_the_chosen_day_has_no_ex_date(market):
    for symbol in LIMITED:
        assert SESSION not in market.ex_dates(symbol)
        assert not market.securities(now=AFTER).filter(pl.col("symbol") == symbol)["is_st"][0]


def test_limit_hits_and_releases_match_the_minute_bars(market, run):
    _, events = run
    for symbol in LIMITED:
        prev_close = market.bars(symbol, PREVIOUS, PREVIOUS, now=AFTER)["close"][0]
        up = _half_up(prev_close * (1 + LIMIT_PCT[symbol]))
        down = _half_up(prev_close * (1 - LIMIT_PCT[symbol]))
        minutes = _minute_closes(market, symbol)
        expected, at = [], {"up": False, "down": False}
        for stamp, close in zip(minutes["time"], minutes["close"], strict=True):
            for side, now_at in (("up", close >= up - 1e-6), ("down", close <= down + 1e-6)):
                if now_at != at[side]:
                    expected.append(("hit" if now_at else "release", side, stamp, close))
                    at[side] = now_at
        got = [("hit" if isinstance(e, LimitHit) else "release", e.side, e.time, e.price)
               for e in events if isinstance(e, (LimitHit, LimitRelease)) and e.symbol == symbol]
        assert got == expected, symbol
        assert any(kind == "hit" for kind, *_ in expected)  # the session really tests something


def test_a_suspended_symbol_gives_one_halt_at_the_first_poll(run):
    _, events = run
    halts = [e for e in events if isinstance(e, Halt)]
    assert [(e.symbol, e.time.time()) for e in halts] == [(SUSPENDED, time(9, 31))]


def test_volume_spike_once_after_the_minimum_minutes_and_never_against_a_high_baseline(market, run):
    _, events = run
    spikes = [e for e in events if isinstance(e, VolumeSpike)]
    assert [(e.symbol, e.time.time()) for e in spikes] == [("000001.SZ", time(9, 40))]
    first_ten = _minute_closes(market, "000001.SZ")["volume"].head(10).sum()
    assert spikes[0].volume == pytest.approx(first_ten)


def test_price_updates_follow_every_change_of_the_minute_closes(market, run):
    watcher, events = run
    updates = [e for e in events if isinstance(e, PriceUpdate)]
    seen = [row["last"] for e in updates for row in e.quotes.filter(pl.col("symbol") == "000001.SZ").iter_rows(named=True)]
    closes = _minute_closes(market, "000001.SZ")["close"].to_list()
    deduped = [c for i, c in enumerate(closes) if i == 0 or c != closes[i - 1]]
    assert seen == deduped
    assert updates[0].quotes.height == 6  # the first snapshot: every symbol
    assert watcher.status()["state"] == "finished"
    assert watcher.status()["events"]["PriceUpdate"] == len(updates)
