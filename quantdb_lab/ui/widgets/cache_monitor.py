"""``CacheMonitorWidget``: what the cache holds and how the upstream is being treated, refreshed on demand.

Shows size on disk by dataset, what was kept of the datasets whose upstream forgets (captured and lost
sessions, ``quantdb_lab.prefetch.collector``), hit rate, upstream calls by function, the rate limiter and breaker of each host
family, recent fetches and the mode. On-disk numbers and the throttle are shared by every kernel on the cache
directory, so *Refresh* shows fetches made elsewhere; hits, misses and recent fetches are this kernel's.
A thin view: ``refresh()`` and ``fetch(text)`` are what the buttons call, so tests drive it without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import traitlets
from plotly.subplots import make_subplots

from quantdb_lab.errors import QuantdbError
from quantdb_lab.lab import Lab
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.ui import cache_report
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

HISTORY = 20  # recent fetches kept
STATES = ("idle", "fetching", "error")


class CacheMonitorWidget(widgets.VBox):
    """``CacheMonitorWidget(lab)``: call ``refresh()`` (or click *Refresh*) to update."""

    stats = traitlets.Dict(help="the last lab.stats()")
    history = traitlets.List(traitlets.Instance(Provenance), help="recent fetches through this kernel, oldest first")
    state = traitlets.Unicode("idle")
    message = traitlets.Unicode("")

    def __init__(self, lab: Lab, *, symbols: str = "", start: str | None = None, end: str | None = None,
                 clock: Callable[[], datetime] = datetime.now, **kwargs: Any) -> None:  # fmt: skip
        self.lab = lab
        self.start, self.end = start, end
        self._clock = clock
        self.refresh_button = widgets.Button(description="Refresh", button_style="primary", icon="refresh")
        self.symbols_box = widgets.Text(value=symbols, description="Symbols", placeholder="600519, 000001.SZ")
        self.fetch_button = widgets.Button(description="Fetch", icon="download", tooltip="fetch these symbols through the cache")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress")
        self.notice = widgets.HTML("")
        self.summary = widgets.HTML("")
        self.datasets = widgets.HTML("")
        self.collection = widgets.HTML("")
        self.throttle_table = widgets.HTML("")
        self.recent = widgets.HTML("")
        self.figure = figure_widget(_figure())
        super().__init__(
            children=[
                widgets.HBox([self.refresh_button, self.symbols_box, self.fetch_button, self.progress]),
                self.notice,
                self.summary,
                self.figure,
                widgets.HTML("<h4>Datasets on disk</h4>"),
                self.datasets,
                widgets.HTML("<h4>Kept before the upstream forgets (quantdb-lab collect)</h4>"),
                self.collection,
                widgets.HTML("<h4>Rate limiter and breaker</h4>"),
                self.throttle_table,
                widgets.HTML("<h4>Recent fetches (this kernel)</h4>"),
                self.recent,
            ],
            **kwargs,
        )
        self.add_class("qdb-cache-monitor")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.fetch_button.on_click(lambda _button: self.fetch(self.symbols_box.value))
        self.refresh()

    @traitlets.validate("history")
    def _bounded(self, proposal: Any) -> list[Provenance]:
        return list(proposal["value"])[-HISTORY:]

    @traitlets.validate("state")
    def _known_state(self, proposal: Any) -> str:
        if proposal["value"] not in STATES:
            raise traitlets.TraitError(f"state must be one of {STATES}")
        return proposal["value"]

    # -- actions ---------------------------------------------------------------------------------------
    def refresh(self) -> dict[str, Any]:
        """Read ``lab.stats()`` again and redraw; returns the stats."""
        self.stats = self.lab.stats()
        self._draw()
        return self.stats

    def fetch(self, text: str) -> list[Provenance]:
        """Fetch the symbols in ``text`` (commas or spaces) one by one with progress, then refresh."""
        symbols = [part for token in text.replace(",", " ").split() if (part := token.strip())]
        if not symbols:
            self.notice.value = "<i>type one or more symbols first</i>"
            return []
        self.state, self.message = "fetching", ""
        self.progress.max, self.progress.value = len(symbols), 0
        done: list[Provenance] = []
        try:
            for symbol in symbols:
                done.extend(self.lab.bars(symbol, start=self.start, end=self.end).quantdb.provenance.series)
                self.progress.value += 1
        except QuantdbError as exc:
            self.state, self.message = "error", f"{type(exc).__name__}: {exc}"
        else:
            self.state = "idle"
        self.history = [*self.history, *done]
        self.refresh()
        return done

    # -- drawing ---------------------------------------------------------------------------------------
    def _draw(self) -> None:
        stats = self.stats
        self.summary.value = cache_report.summary_html(stats, self._clock())
        datasets = cache_report.dataset_rows(stats)
        self.datasets.value = cache_report.html_table(datasets, empty="the cache is empty")
        self.collection.value = cache_report.html_table(cache_report.collection_rows(stats),
                                                        empty="no dataset whose upstream forgets")  # fmt: skip
        self.throttle_table.value = cache_report.html_table(
            cache_report.throttle_rows(stats), empty="no upstream call yet"
        )
        self.recent.value = cache_report.html_table(
            cache_report.provenance_rows(self.history), empty="no fetch through this kernel yet"
        )
        families = cache_report.throttle_rows(stats)
        figure = _figure()
        figure.data[0].update(x=[row["dataset"] for row in datasets],
                              y=[round(row["bytes"] / 2**20, 3) for row in datasets])  # fmt: skip
        figure.data[1].update(x=[row["host_family"] for row in families], y=[row["calls"] for row in families])
        # in place (same two bar traces), and also into the state a page connecting later reads (Voila)
        self.figure = show_figure(self, self.figure, figure)
        self.notice.value = (
            f'<span style="color:#b00">{self.message}</span>' if self.state == "error" and self.message else ""
        )


def _figure() -> go.Figure:
    """The two bar charts, empty; shown through ``show_figure``, never by adding traces to a FigureWidget."""
    titles = (style.title("cache_size"), style.title("cache_calls"))
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles)
    figure.add_bar(x=[], y=[], row=1, col=1, name="MB on disk")
    figure.add_bar(x=[], y=[], row=1, col=2, name="calls")
    figure.update_layout(**style.base_layout("", height=340), showlegend=False)
    figure.update_layout(margin={"t": 50, "b": 60})
    figure.update_xaxes(title_text=style.label("dataset"), row=1, col=1)
    figure.update_xaxes(title_text=style.label("host_family"), row=1, col=2)
    figure.update_yaxes(title_text=style.label("size"), gridcolor=style.GRID, row=1, col=1)
    figure.update_yaxes(title_text=style.label("calls"), gridcolor=style.GRID, row=1, col=2)
    colours = style.palette()
    figure.update_traces(marker_color=colours.real, selector={"name": "MB on disk"})
    figure.update_traces(marker_color=colours.neutral, selector={"name": "calls"})
    return figure
