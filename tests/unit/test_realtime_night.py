"""Real time outside sessions: ``lab.quotes`` serves the last snapshot with its time, or says the market is
closed and when the next session opens (pointing at ``realtime.replay``), never raising; the LiveWatchWidget
shows that state; ``%qdb quotes`` and the other magics print one line on errors and never stop Run All.

Dates are checked against the SSE's published 2024 schedule: Monday 10 June 2024 was the Dragon Boat holiday,
so after the close on Friday 7 June the next session opens on Tuesday 11 June at 09:30.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from quantdb_lab import Lab
from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.domain.quotes import QUOTES
from quantdb_lab.errors import MarketClosedWarning, ProviderUnavailableError
from quantdb_lab.providers.simulated import SimulatedMarket, SimulatedProvider
from quantdb_lab.realtime import MarketClosed
from quantdb_lab.realtime.session import next_open
from tests.unit.test_magics import shell  # noqa: F401 - the simulated shell with %load_ext quantdb_lab


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def _clock(text: str) -> FixedClock:
    return FixedClock(datetime.fromisoformat(text).replace(tzinfo=EXCHANGE_TZ))


@pytest.fixture(scope="module")
def market():
    return SimulatedMarket(seed=7)


def _lab(tmp_path, clock, market, mode="trading"):
    return Lab(tmp_path, SimulatedProvider(market, clock=clock), mode=mode, clock=clock, usage_log=False)


@pytest.mark.parametrize(("now", "opens"), [
    ("2024-06-07 20:00", "2024-06-11 09:30"),  # Friday night, over a weekend and the Dragon Boat Monday
    ("2024-06-08 11:00", "2024-06-11 09:30"),  # Saturday
    ("2024-06-11 08:00", "2024-06-11 09:30"),  # before the open
    ("2024-06-11 12:00", "2024-06-11 13:00"),  # lunch
    ("2024-06-11 15:05", "2024-06-12 09:30"),  # after the close
])  # fmt: skip
def test_next_open(market, now, opens):
    assert next_open(market.calendar, _clock(now).now()) == datetime.fromisoformat(opens).replace(tzinfo=EXCHANGE_TZ)


def test_quotes_at_night_without_a_snapshot_say_the_market_is_closed_and_when_it_opens(tmp_path, market):
    lab = _lab(tmp_path, _clock("2024-06-07 20:00"), market)
    with pytest.warns(MarketClosedWarning) as caught:
        frame = lab.quotes(["600519", "000001.SZ"])
    assert frame.is_empty() and list(frame.columns) == [*QUOTES, "as_of", "stale"]
    text = str(caught[0].message)
    assert "closed" in text and "2024-06-11 09:30" in text and "realtime.replay" in text
    assert "\n" not in text
    assert lab.provider.calls["fetch_quotes"] == 0


def test_quotes_at_night_serve_the_last_snapshot_with_its_time(tmp_path, market):
    clock = _clock("2024-06-07 14:30")
    lab = _lab(tmp_path, clock, market)
    lab.quotes(["600519"])
    clock.current = clock.current.replace(hour=21)
    served = lab.quotes(["600519"])
    assert served["as_of"][0] == datetime(2024, 6, 7, 14, 30, tzinfo=EXCHANGE_TZ) and not served["stale"][0]
    assert lab.provider.calls["fetch_quotes"] == 1


def test_a_watcher_at_night_publishes_market_closed_and_the_widget_shows_it(tmp_path, market):
    from quantdb_lab.ui.widgets.live_watch import LiveWatchWidget

    lab = _lab(tmp_path, _clock("2024-06-07 20:00"), market)
    watcher = lab.watch(["600519"], interval=60, start=False)
    seen = []
    watcher.subscribe(MarketClosed, seen.append)
    live = LiveWatchWidget(watcher)
    try:
        assert "closed" in live.status_view.value  # before any poll
        watcher.poll_once()
        watcher.poll_once()
        _wait_for(lambda: seen and "closed" in live.status_view.value)
        assert len(seen) == 1 and seen[0].next_open == datetime(2024, 6, 11, 9, 30, tzinfo=EXCHANGE_TZ)
        assert watcher.errors == 0 and watcher.status()["market"].startswith("market closed")
        status = live.status_view.value
        assert "closed" in status and "2024-06-11 09:30" in status and "replay" in status
    finally:
        live.close()
        watcher.stop()


def _magics(ip):
    from quantdb_lab.ui.magics import register

    return register(ip)  # the shell's %qdb from now on


def test_qdb_quotes_at_night_prints_one_line_and_run_all_goes_on(shell, market, tmp_path, capsys):  # noqa: F811 - the imported fixture
    _magics(shell)._lab = _lab(tmp_path / "night", _clock("2024-06-07 20:00"), market)
    result = shell.run_cell("%qdb quotes 600519")
    assert result.success and result.error_in_exec is None
    out = capsys.readouterr()
    said = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert len(said) == 1 and "closed" in said[0] and "2024-06-11 09:30" in said[0], said
    assert "Traceback" not in out.out + out.err


def test_magics_print_one_line_on_provider_errors(shell, market, tmp_path, capsys):  # noqa: F811 - the imported fixture
    clock = _clock("2024-06-07 10:00")
    lab = _lab(tmp_path / "down", clock, market)
    lab.provider.faults.down = True
    _magics(shell)._lab = lab
    result = shell.run_cell("%qdb quotes 600519")
    assert result.success, result.error_in_exec
    out = capsys.readouterr()
    said = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert len(said) == 1 and ProviderUnavailableError.__name__ in said[0] and "Traceback" not in out.err, said
    # A Run All of several magics goes past the failing one.
    result = shell.run_cell("x = %qdb quotes 600519\ny = 1")
    assert result.success and shell.user_ns["y"] == 1 and shell.user_ns["x"] is None
