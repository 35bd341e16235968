"""The warmer end to end on the simulated market: priority order, yielding to the foreground, clean stop,
one warmer per cache directory (also across processes), and the measured value in lab.stats()."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

from quantdb_lab.cli import main
from quantdb_lab.errors import WarmerBusyError
from quantdb_lab.prefetch import Warmer
from tests.support.sim import MARKET, calls, make_lab

warnings.filterwarnings("ignore", category=DeprecationWarning)
LISTED = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s).year < 2020]
WATCH, ONE_OFF = LISTED[:4], LISTED[4]
DAY = 24 * 3600


def _habit(lab, clock, days=2, symbols=WATCH):
    """The researcher reads ``symbols`` after each close for ``days`` sessions; ends after the next close."""
    for _ in range(days):
        lab.bars(symbols, start="2025-01-01")
        clock.advance(DAY)


def _recording(lab, monkeypatch):
    order = []
    real = lab.load_in_background

    def load(request, **kwargs):
        order.append(request.symbol.canonical)
        return real(request, **kwargs)

    monkeypatch.setattr(lab, "load_in_background", load)
    return order


def test_warms_in_priority_order_and_the_next_reads_are_hits(tmp_path, monkeypatch):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    _habit(lab, clock, days=2)
    lab.bars(ONE_OFF, start="2024-01-01", adjust="")  # a one-off look: not warmed
    warmer = Warmer(lab, peers=None)
    expected = [p.symbol for p in warmer.predictions() if p.confidence >= 0.7]
    order = _recording(lab, monkeypatch)
    report = warmer.run_once()
    assert list(dict.fromkeys(order)) == expected and sorted(expected) == sorted(WATCH)
    assert len(order) == 4  # qfq warms the unadjusted bars alone, one call at a time (yielding in between)
    assert (report.warmed, report.calls, report.failed) == (4, 4, [])  # one new session each
    before = calls(provider)
    clock.advance(4 * 3600)
    frame = lab.bars(WATCH, start="2025-01-01")
    assert calls(provider) == before and all(p.from_cache for p in frame.quantdb.provenance.series)
    warming = lab.stats()["warming"]
    assert warming | {"warm_hits": 4} == {  # an entry per stored series warmed
        "warmed_entries": 4, "warmed_used": 4, "warm_hits": 4, "warming_calls": 4, "warming_calls_unused": 0,
        "warm_hit_rate": 1.0, "wasted_share": 0.0,
    }  # fmt: skip
    assert Warmer(lab, peers=None).run_once().already_warm == 4  # nothing left to fetch: no calls


def test_unused_warming_is_counted_as_wasted(tmp_path):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    _habit(lab, clock, days=2)
    lab.warm(progress=False)
    clock.advance(4 * 3600)
    lab.bars(WATCH[:3], start="2025-01-01")  # the 4th is skipped today
    warming = lab.stats()["warming"]
    assert (warming["warmed_entries"], warming["warmed_used"], warming["warming_calls_unused"]) == (4, 3, 1)
    assert warming["wasted_share"] == pytest.approx(0.25)


def test_background_warmer_yields_to_the_foreground_and_stops_cleanly(tmp_path, monkeypatch):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    _habit(lab, clock, days=2)
    order = _recording(lab, monkeypatch)
    warmer = Warmer(lab, peers=None, quiet=0.05)
    with lab.tracking.activity:  # a foreground load in flight
        warmer.start(interval=60)
        time.sleep(0.4)
        assert order == [] and warmer.state["phase"] == "yielding to a foreground request"
    deadline = time.monotonic() + 5
    while len(order) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(order) == 4
    warmer.stop()
    assert not warmer.running and warmer.state["phase"] == "stopped"
    Warmer(lab, peers=None).run_once()  # the cache directory is free again


def test_stop_mid_pass_finishes_the_call_in_flight(tmp_path, monkeypatch):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    _habit(lab, clock, days=2)
    real = lab.load_in_background
    started = threading.Event()

    def slow(request, **kwargs):
        started.set()
        time.sleep(0.3)  # an upstream call in flight
        return real(request, **kwargs)

    monkeypatch.setattr(lab, "load_in_background", slow)
    warmer = Warmer(lab, peers=None, quiet=0.0).start()
    assert started.wait(5)
    t0 = time.monotonic()
    warmer.stop()
    assert time.monotonic() - t0 < 1.0 and not warmer.running
    assert warmer.last_report is not None and warmer.last_report.stopped
    assert lab.stats()["warming"]["warmed_entries"] == 1  # the call in flight completed and was recorded


def test_one_warmer_per_cache_directory_in_one_process(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    first = Warmer(lab, peers=None).start(interval=60)
    try:
        with pytest.raises(WarmerBusyError):
            Warmer(lab, peers=None).run_once()
        with pytest.raises(WarmerBusyError):
            lab.warm(progress=False)
    finally:
        first.stop()
    lab.warm(progress=False)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from quantdb_lab.lab import Lab
    from quantdb_lab.prefetch import Warmer
    warmer = Warmer(Lab(sys.argv[1], provider="simulated"), peers=None).start(interval=600)
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.timeout(60)
def test_one_warmer_per_cache_directory_across_processes(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "cache")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarmerBusyError, match=f"pid {holder.pid}"):
            Warmer(lab, peers=None).run_once()
        assert main(["--cache-dir", str(tmp_path / "cache"), "--provider", "simulated", "warm", "--quiet"]) == 0
    finally:
        holder.kill()
        holder.wait(10)
    Warmer(lab, peers=None).run_once()  # the lock died with its holder


def test_cli_warm_runs_one_pass(tmp_path, capsys):
    assert main(["--cache-dir", str(tmp_path), "--provider", "simulated", "warm", "--quiet"]) == 0
    assert '"predictions": 0' in capsys.readouterr().out



def test_portfolio_requests_are_logged_as_usage_and_count_as_foreground(tmp_path, monkeypatch):
    """The warmer learns from portfolios too, and yields to their loads."""
    from tests.support.sim import make_lab as _make_lab

    lab, _, _ = _make_lab(tmp_path)
    entered = []
    activity_type = type(lab.tracking.activity)
    real_enter = activity_type.__enter__
    monkeypatch.setattr(activity_type, "__enter__", lambda self: entered.append(1) or real_enter(self))
    lab.portfolio(["600519", "000001"], start="2025-01-02", end="2025-03-31", adjust="", progress=False)
    assert len(entered) == 2  # each portfolio load ran as foreground activity
    assert {"600519.SH", "000001.SZ"} <= set(lab.usage()["symbol"].to_list())


def test_the_daily_budget_holds_across_passes_and_processes_and_renews_the_next_day(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    _habit(lab, clock, days=2)
    before = calls(provider)
    first = Warmer(lab, peers=None, daily_calls=3).run_once()
    assert (first.calls, first.spent_today, first.over_budget) == (3, 3, 1)  # the 4th: past the budget
    again = Warmer(lab, peers=None, daily_calls=3).run_once()  # a second pass (cron, another kernel): same budget
    assert again.calls == 0 and again.over_budget == 1 and calls(provider) - before == 3
    clock.advance(4 * 3600)
    lab.bars(WATCH, start="2025-01-01")  # the next morning: the 3 warmed series used, the 4th fetched
    clock.advance(20 * 3600)  # the next exchange day, after its close: a fresh budget
    nxt = Warmer(lab, peers=None, daily_calls=3).run_once()
    assert (nxt.calls, nxt.spent_today) == (3, 3)
