"""show_figure: what a page that connects late (Voila) reads is always the figure shown, and edit messages go
only to a FigureWidget a page has drawn.

Voila runs the notebook before the page connects, so a FigureWidget's edit messages sent before then are lost
and the page draws the widget's initial state (``_widget_data`` / ``_widget_layout``). These tests check that
state, which no browser-free test could see otherwise, for the helper and for each dashboard widget.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as widgets
import plotly.graph_objects as go
import polars as pl
import pytest

from quantdb_lab.ui.widgets import AskWidget, GapSynthesisWidget, PortfolioFetchWidget, QualityReportWidget
from quantdb_lab.ui.widgets.cache_monitor import CacheMonitorWidget
from quantdb_lab.ui.widgets.figure_view import drawn, figure_widget, show_figure
from tests.support.sim import d, make_lab


def shown(figure: go.FigureWidget) -> list[tuple]:
    """(type, name, number of points) of each trace in the state a connecting view reads."""
    return [(t["type"], t.get("name"), len(t.get("x", ()))) for t in figure._widget_data]


def held(figure: go.FigureWidget) -> list[tuple]:
    return [(t.type, t.name, len(t.x or ())) for t in figure.data]


def assert_views_see_the_figure(figure: go.FigureWidget, container: widgets.Box) -> None:
    assert any(child is figure for child in container.children)
    assert shown(figure) == held(figure) and figure._widget_layout == figure._layout_obj._props


def drawn_by_a_page(figure: go.FigureWidget) -> go.FigureWidget:
    """What plotly's view does once it has drawn the figure: report the layout it computed."""
    figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": figure._last_layout_edit_id}
    assert drawn(figure)
    return figure


def edits_sent(figure: go.FigureWidget) -> list[str]:
    sent: list[str] = []
    figure.observe(lambda change: sent.append(change["name"]) if change["new"] else None,
                   names=[n for n in figure.trait_names() if n.startswith("_py2js_")])  # fmt: skip
    return sent


def lines(*names: str, n: int = 3, **layout) -> go.Figure:
    figure = go.Figure(layout={"width": 900, **layout})
    for name in names:
        figure.add_scatter(x=list(range(n)), y=list(range(n)), name=name, text=["t"] * n if name == "a" else None)
    return figure


def test_a_new_trace_count_swaps_in_a_new_widget_and_closes_the_old():
    first = drawn_by_a_page(figure_widget(lines()))
    box = widgets.VBox([widgets.HTML("above"), first])
    sent = edits_sent(first)
    second = show_figure(box, first, lines("a", "b"))
    assert sent == [] and not drawn(second)
    assert second is not first and first.comm is None  # closed
    assert box.children[1] is second and held(second) == [("scatter", "a", 3), ("scatter", "b", 3)]
    assert_views_see_the_figure(second, box)


def test_the_same_traces_are_updated_in_place_once_drawn_stale_properties_cleared():
    figure = drawn_by_a_page(figure_widget(lines("a", "b", title="old")))
    box = widgets.VBox([figure])
    sent = edits_sent(figure)
    again = show_figure(box, figure, lines("b", "c", n=5, title="new"))
    assert again is figure and sent == ["_py2js_update"]
    assert held(figure) == [("scatter", "b", 5), ("scatter", "c", 5)]
    assert figure.data[0].text is None and figure.layout.title.text == "new"
    assert_views_see_the_figure(figure, box)


def test_a_figure_no_page_has_drawn_yet_is_replaced_not_edited():
    """Edits to a model a page is still loading are dropped after anywidget's 2 s: build a new one instead."""
    figure = figure_widget(lines("a", "b"))
    box = widgets.VBox([figure])
    sent = edits_sent(figure)
    shown_now = show_figure(box, figure, lines("a", "b", n=5))
    assert shown_now is not figure and sent == [] and figure.comm is None
    assert held(shown_now) == [("scatter", "a", 5), ("scatter", "b", 5)]
    assert_views_see_the_figure(shown_now, box)


def test_a_figure_outside_the_container_is_refused():
    with pytest.raises(ValueError, match="not a child"):
        show_figure(widgets.VBox([]), go.FigureWidget(lines()), lines("a"))


@pytest.fixture
def lab(tmp_path):
    return make_lab(tmp_path)[0]


def test_portfolio_charts_reach_a_late_view_and_refetching_reuses_them(lab):
    widget = PortfolioFetchWidget(lab, symbols="600519 000001", start=date(2024, 1, 2), end=date(2024, 3, 29))
    widget.fetch()
    performance, candles = widget.performance_figure, widget.candle_figure
    assert [t[1] for t in shown(performance)] == ["portfolio", "600519.SH", "000001.SZ"]
    rows = widget.result.frames["600519.SH"].height
    assert shown(candles) == [("candlestick", "600519.SH", rows), ("bar", "volume", rows)]  # volume below price
    for figure in (performance, candles):
        drawn_by_a_page(figure)
    widget.member_box.value = "000001.SZ"
    assert shown(candles)[0][1] == "000001.SZ" and widget.candle_figure is candles
    widget.fetch()  # the same members: the same widgets, updated in place
    assert widget.performance_figure is performance and widget.candle_figure is candles
    for figure in (performance, candles):
        assert_views_see_the_figure(figure, widget)
    widget.symbols_box.value = "600519"  # fewer members: a new performance chart
    widget.fetch()
    assert widget.performance_figure is not performance and performance.comm is None
    assert [t[1] for t in shown(widget.performance_figure)] == ["portfolio", "600519.SH"]
    assert_views_see_the_figure(widget.performance_figure, widget)


def test_quality_gap_and_ask_charts_reach_a_late_view(lab):
    frame = lab.bars("600519", start="2024-01-02", end="2024-06-28", adjust="")
    quality = QualityReportWidget(lab, pl.concat([frame, frame[10:11]]))
    assert [t[1] for t in shown(quality.figure)][:2] == ["close", "volume"]
    assert_views_see_the_figure(quality.figure, quality)

    gaps = GapSynthesisWidget(lab, frame=frame.filter(pl.col("date") != d("2024-03-05")))
    gaps.fill()
    gaps.sample_paths(2)
    names = [t[1] for t in shown(gaps.figure)]
    assert names == ["real close", "90% band", "synthetic close", "sample 0", "sample 1"]
    assert_views_see_the_figure(gaps.figure, gaps)

    ask = AskWidget(lab)
    ask.submit("Compare the volatility of 600519 and 000858 this year")
    assert len(shown(ask.chart)) == 2 and ask.chart.layout.width == 900
    assert_views_see_the_figure(ask.chart, ask)
    ask.submit("Top 10 fintech stocks last month")  # declined: no chart
    assert shown(ask.chart) == []
    assert_views_see_the_figure(ask.chart, ask)


def test_the_cache_monitor_chart_reaches_a_late_view(lab):
    lab.bars(["600519", "000001.SZ"], start="2024-01-02", end="2024-02-29")
    monitor = CacheMonitorWidget(lab)  # refreshed (drawn) before any page connects
    assert [t["x"] for t in monitor.figure._widget_data] == [["bars"], ["local"]]
    assert_views_see_the_figure(monitor.figure, monitor)
