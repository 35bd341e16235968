"""``LiveWatchWidget``: a Watcher's ticker table, recent events and an intraday chart, updated as events arrive.

A thin view over ``quantdb_lab.realtime``: it subscribes to the watcher's bus, so updates run on the bus'
worker thread for this handler (a slow browser never slows the poller or other handlers). ``on_event(event)``
is what the subscription calls, so tests drive it without a browser. The chart is built as a ``go.Figure``
and wrapped in a ``go.FigureWidget`` once; later updates only assign trace data (adding traces to a
FigureWidget that is not displayed yet breaks under Voila). Outside trading hours the status line says the
market is closed, when it opens and what snapshot is shown (the watcher's ``MarketClosed`` event and status).
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import polars as pl
import traitlets

from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets.figure_view import figure_widget
from quantdb_lab.domain.quotes import QUOTES
from quantdb_lab.realtime import Event, LimitHit, LimitRelease, MarketClosed, PriceUpdate, VolumeSpike, Watcher

TABLE_COLUMNS = ("symbol", "last", "pct_change", "volume", "limit_up", "limit_down", "halted")


class LiveWatchWidget(widgets.VBox):
    """``LiveWatchWidget(watcher)``; ``symbol`` picks the charted symbol (one of ``symbols``, or "")."""

    symbols = traitlets.List(traitlets.Unicode(), help="symbols seen so far, sorted")
    symbol = traitlets.Unicode("", help="the charted symbol")
    rows = traitlets.List(traitlets.Dict(), help="the ticker table's rows (the latest quote per symbol)")
    recent = traitlets.List(traitlets.Unicode(), help="recent alerts, newest first")
    updates = traitlets.Int(0, help="PriceUpdate events applied")

    def __init__(self, watcher: Watcher, *, symbol: str = "", max_rows: int = 40, max_events: int = 30,
                 **kwargs: Any) -> None:  # fmt: skip
        self.watcher = watcher
        self.max_rows, self.max_events = max_rows, max_events
        self._lock = threading.RLock()  # the bus thread and the kernel's (picker) both update the view
        self._history: list[pl.DataFrame] = []  # (symbol, time, last) of every update
        self._latest = pl.DataFrame(schema={c: QUOTES[c] for c in TABLE_COLUMNS})
        self._known: set[str] = set()
        self._x: list[datetime] = []
        self._y: list[float] = []
        self._alerts: deque[str] = deque(maxlen=max_events)
        self.latency: float | None = None  # seconds from the last PriceUpdate's arrival to the model update
        self.status_view = widgets.HTML(_status_html(watcher.status()))  # the market's state before any poll
        self.picker = widgets.Dropdown(options=[], description="Chart")
        self.table_view = widgets.HTML("")
        self.events_view = widgets.HTML("")
        figure = style.figure(style.title("intraday"), height=360, x="time", y="price")
        figure.add_scatter(x=[], y=[], mode="lines", name="last", line={"color": style.palette().real})
        self.chart = figure_widget(figure)
        super().__init__(children=[self.status_view, self.table_view, self.picker, self.chart,
                                   widgets.HTML("<h4>Recent events</h4>"), self.events_view], **kwargs)  # fmt: skip
        self.symbol = symbol
        self.picker.observe(lambda change: setattr(self, "symbol", change["new"] or ""), names="value")
        self.subscription = watcher.subscribe(Event, self.on_event)

    @traitlets.validate("symbol")
    def _valid_symbol(self, proposal: Any) -> str:
        value = proposal["value"]
        if value and self._known and value not in self._known:
            raise traitlets.TraitError(f"{value!r} is not a watched symbol")
        return value

    @traitlets.observe("symbol")
    def _symbol_changed(self, change: Any) -> None:
        with self._lock:
            if self.picker.value != (change["new"] or None) and change["new"] in self.picker.options:
                self.picker.value = change["new"]
            self._redraw()

    # -- events -----------------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        started = time.perf_counter()
        with self._lock:
            if isinstance(event, PriceUpdate):
                self._apply_quotes(event.quotes)
                self.latency = time.perf_counter() - started
            else:
                self._alerts.appendleft(describe(event))
                self.recent = list(self._alerts)
                self.events_view.value = "<br>".join(html.escape(a) for a in self._alerts)
            self.status_view.value = _status_html(self.watcher.status())

    def _apply_quotes(self, quotes: pl.DataFrame) -> None:
        """Vectorised: the latest row per symbol is upserted in a frame; the chart's series grows by the selected
        symbol's rows only (a whole-market update is one frame operation, not thousands of Python appends)."""
        ticks = quotes.select("symbol", "time", "last")
        self._latest = pl.concat([self._latest, quotes.select(TABLE_COLUMNS)], how="vertical_relaxed").unique(
            "symbol", keep="last", maintain_order=False).sort("symbol")
        if self._latest.height != len(self.symbols):
            names = self._latest["symbol"].to_list()
            self._known = set(names)
            self.symbols = names
            self.picker.options = names
        if not self.symbol and self.symbols:
            self.symbol = self.symbols[0]
        self.rows = self._latest.head(self.max_rows).to_dicts()
        self.table_view.value = _table_html(self.rows)
        self.updates += 1
        mine = ticks.filter(pl.col("symbol") == self.symbol)
        self._history.append(ticks)  # after a first selection's redraw, so these ticks are not drawn twice
        if mine.height:
            self._x.extend(mine["time"].to_list())
            self._y.extend(mine["last"].to_list())
            self._draw()

    def _redraw(self) -> None:
        """Rebuild the selected symbol's series from the kept updates (on a change of symbol)."""
        if self._history:
            mine = pl.concat(self._history).filter(pl.col("symbol") == self.symbol)
            self._x, self._y = mine["time"].to_list(), mine["last"].to_list()
        else:
            self._x, self._y = [], []
        self._draw()

    def _draw(self) -> None:
        with self.chart.batch_update():
            self.chart.data[0].x = list(self._x)
            self.chart.data[0].y = list(self._y)
            self.chart.layout.title.text = f"{self.symbol} intraday" if self.symbol else "intraday"

    def close(self) -> None:
        self.watcher.bus.unsubscribe(self.subscription, timeout=1.0)
        super().close()


def describe(event: Event) -> str:
    """One line per alert, e.g. ``10:31 LimitHit 600000.SH up at 10.89``."""
    stamp = event.time.strftime("%H:%M")
    if isinstance(event, (LimitHit, LimitRelease)):
        return f"{stamp} {type(event).__name__} {event.symbol} {event.side} at {event.price:g}"
    if isinstance(event, VolumeSpike):
        return f"{stamp} VolumeSpike {event.symbol} {event.ratio:.1f}x expected volume"
    if isinstance(event, MarketClosed):
        return f"{stamp} MarketClosed: trading next starts {event.next_open:%Y-%m-%d %H:%M}"
    detail = getattr(event, "symbol", None) or getattr(event, "host_family", "")
    return f"{stamp} {type(event).__name__} {detail}".rstrip()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name == "pct_change":
        return f"{value:+.2%}"
    if name == "volume":
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return html.escape(str(value))


def _table_html(rows: list[dict]) -> str:
    head = "".join(f"<th>{c}</th>" for c in TABLE_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c, r.get(c))}</td>" for c in TABLE_COLUMNS) + "</tr>" for r in rows)
    return f"<table class='qdb-live'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status_html(status: dict) -> str:
    as_of = status["as_of"].strftime("%Y-%m-%d %H:%M") if status["as_of"] is not None else "-"
    line = (f"<b>{status['state']}</b> · {status['polls']} polls · as of {as_of} · breaker {status['breaker']}"
            f" · {status['errors']} errors")  # fmt: skip
    market = status.get("market")
    if market and market != "open":
        line += f"<br><span class='qdb-market-closed'>{html.escape(market)}</span>"
    return line
