"""LiveWatchWidget and the %qdb quotes / watch magics, driven without a browser."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
import traitlets

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.realtime import Halt, LimitHit, PriceUpdate, replay, replay_lab
from quantdb_lab.ui.widgets.live_watch import LiveWatchWidget, describe

SESSION = date(2024, 3, 5)
T = datetime(2024, 3, 5, 10, 0, tzinfo=EXCHANGE_TZ)


def _quotes(prices: dict[str, float], stamp: datetime = T) -> pl.DataFrame:
    n = len(prices)
    return pl.DataFrame({"symbol": list(prices), "time": [stamp] * n, "last": list(prices.values()),
                         "pct_change": [0.01] * n, "volume": [1e6] * n, "limit_up": [11.0] * n,
                         "limit_down": [9.0] * n, "halted": [False] * n})


@pytest.fixture
def widget(tmp_path):
    watcher = replay(SESSION, ["000001.SZ"], speed=float("inf"), cache_dir=tmp_path, start=False)
    made = LiveWatchWidget(watcher)
    yield made
    made.close()
    watcher.stop()


def test_price_updates_fill_the_table_in_place_and_the_chart(widget):
    table = widget.table_view
    widget.on_event(PriceUpdate(T, _quotes({"600519.SH": 10.0, "000001.SZ": 12.0})))
    widget.on_event(PriceUpdate(T.replace(minute=1), _quotes({"000001.SZ": 12.5}, T.replace(minute=1))))
    assert widget.table_view is table and widget.updates == 2
    assert [r["symbol"] for r in widget.rows] == ["000001.SZ", "600519.SH"]
    assert [r["last"] for r in widget.rows] == [12.5, 10.0] and "12.50" in table.value
    assert widget.symbols == ["000001.SZ", "600519.SH"] and widget.symbol == "000001.SZ"
    assert list(widget.chart.data[0].y) == [12.0, 12.5] and len(widget.chart.data) == 1
    widget.symbol = "600519.SH"
    assert list(widget.chart.data[0].y) == [10.0] and widget.picker.value == "600519.SH"
    with pytest.raises(traitlets.TraitError):
        widget.symbol = "300750.SZ"
    assert widget.latency is not None and widget.latency < 0.05


def test_alerts_are_listed_newest_first(widget):
    widget.on_event(Halt(T, "604262.SH"))
    widget.on_event(LimitHit(T.replace(minute=5), "600000.SH", "up", 10.89))
    assert widget.recent == ["10:05 LimitHit 600000.SH up at 10.89", "10:00 Halt 604262.SH"]
    assert "LimitHit" in widget.events_view.value and describe(Halt(T, "x")) == "10:00 Halt x"


def test_the_widget_follows_a_replayed_session(tmp_path):
    lab = replay_lab(SESSION, cache_dir=tmp_path)
    watcher = replay(SESSION, ["000001.SZ", "600000.SH"], speed=float("inf"), lab=lab, start=False,
                     end_time=datetime(2024, 3, 5, 10, 0).time())
    live = LiveWatchWidget(watcher, symbol="")
    watcher.start()
    assert watcher.join(20)
    watcher.stop()
    assert live.updates >= 2 and {r["symbol"] for r in live.rows} == {"000001.SZ", "600000.SH"}
    assert len(live.chart.data[0].x) >= 2 and "polls" in live.status_view.value
    assert isinstance(lab.clock, FixedClock)


def test_magics_quotes_and_watch(tmp_path, monkeypatch):
    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import get_ipython

    from quantdb_lab.ui.magics import register

    magics = register(get_ipython())
    magics._lab = replay_lab(SESSION, cache_dir=tmp_path)  # a trading-mode Lab whose clock stands in a session
    magics._lab.clock.advance(600)
    frame = magics.qdb("quotes 000001.SZ,600000")
    assert frame["symbol"].to_list() == ["000001.SZ", "600000.SH"]
    live = magics.qdb("watch 000001.SZ --interval 30")
    try:
        assert isinstance(live, LiveWatchWidget) and live.watcher.interval == 30
    finally:
        live.watcher.stop()
    with pytest.raises(UsageError):
        magics.qdb("watch")
    with pytest.raises(UsageError):
        magics.qdb("watch 600519 --interval 0")
