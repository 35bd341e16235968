"""MultiModalWidget: a security's price with news markers coloured by sentiment, and the macro series and
commodities of its view in panels below, on one shared x-axis (``quantdb_lab.multimodal``).

The chart is built as a plain ``go.Figure`` (``multimodal_figure``) and wrapped in ``figure_widget(figure)``;
later changes go through ``show_figure``, never ``add_trace`` on an undisplayed FigureWidget (Voila).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from quantdb_lab.errors import QuantdbError
from quantdb_lab.multimodal import View, build_view
from quantdb_lab.multimodal.relevance import rules
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

INCLUDED, AUTO = "__include__", "__auto__"  # dropdown values: the sources given at creation; the rules decide


def _panels(view: View) -> list[str]:
    return [*view.sources.macro, *(f"{c.lower()}_close" for c in view.sources.commodities)]


def multimodal_figure(view: View) -> go.Figure:
    """Price (row 1, with news markers), then one row per macro series and commodity, sharing the x-axis."""
    frame, panels = view.frame, _panels(view)
    rows = 1 + len(panels)
    heights = [0.5] + [0.5 / len(panels)] * len(panels) if panels else [1.0]
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=heights,
                           subplot_titles=[view.target, *panels])  # fmt: skip
    colours = style.palette()
    figure.add_trace(go.Scatter(x=frame["date"].to_list(), y=frame["close"].to_list(), mode="lines", name="close",
                                line={"color": colours.real}), row=1, col=1)  # fmt: skip
    if "news_count" in frame.columns:
        news = frame.filter(pl.col("news_count") > 0)
        sentiment = news["news_sentiment"].fill_null(0).to_list()
        marks = style.signed(sentiment, colours)  # positive news in the rising colour
        figure.add_trace(go.Scatter(
            x=news["date"].to_list(), y=news["close"].to_list(), mode="markers", name="news",
            marker={"color": marks, "size": 8, "line": {"width": 0.5, "color": "white"}},
            text=[f"{n} article(s), sentiment {s:+.2f}<br>{h or ''}" for n, s, h in
                  zip(news["news_count"].to_list(), sentiment, news["last_headline"].to_list(), strict=True)],
            hoverinfo="text+x"), row=1, col=1)  # fmt: skip
    for row, column in enumerate(panels, start=2):
        figure.add_trace(go.Scatter(x=frame["date"].to_list(), y=frame[column].to_list(), mode="lines", name=column,
                                    line={"shape": "hv"}), row=row, col=1)  # fmt: skip
    figure.update_layout(**style.base_layout(f"{view.target}: {style.title('multimodal')}",
                                             height=320 + 160 * len(panels)), showlegend=False)
    figure.update_yaxes(gridcolor=style.GRID)
    figure.update_yaxes(title_text=style.label("close"), row=1, col=1)
    figure.update_xaxes(title_text=style.label("date"), row=rows, col=1)
    return figure


class MultiModalWidget(widgets.VBox):
    """``MultiModalWidget(lab, "600519", start=..., end=..., context="momentum")``; ``refresh(...)`` redraws."""

    def __init__(self, lab: Any, symbol_or_sector: str, *, start: Any = None, end: Any = None,
                 include: Iterable[str] | None = None, context: str | None = None) -> None:  # fmt: skip
        self.lab, self.start, self.end = lab, start, end
        self.include = tuple(include) if include is not None else None
        self.view = build_view(lab, symbol_or_sector, start=start, end=end, include=include, context=context)
        self.header = widgets.HTML(self._header())
        options = [("include: " + ", ".join(self.include), INCLUDED)] if self.include else []
        options += [("auto", AUTO), *((c, c) for c in sorted(rules()["contexts"]))]
        self.target = widgets.Text(value=str(symbol_or_sector), description="Symbol or sector")
        self.context = widgets.Dropdown(options=options, value=INCLUDED if self.include else (context or AUTO),
                                        description="Context")  # fmt: skip
        self.show = widgets.Button(description="Show")
        self.show.on_click(lambda _: self._on_show())
        self.figure = figure_widget(multimodal_figure(self.view))
        super().__init__([widgets.HBox([self.target, self.context, self.show]), self.header, self.figure])

    def _on_show(self) -> None:
        choice = self.context.value
        include = self.include if choice == INCLUDED else None
        try:
            self.refresh(self.target.value, start=self.start, end=self.end, include=include,
                         context=None if choice in (INCLUDED, AUTO) else choice)  # fmt: skip
        except QuantdbError as exc:
            self.header.value = f"<b>{type(exc).__name__}</b>: {exc}"

    def _header(self) -> str:
        sources = self.view.sources
        return f"<b>{self.view.target}</b>: {sources}"

    def refresh(self, symbol_or_sector: str, *, start: Any = None, end: Any = None,
                include: Iterable[str] | None = None, context: str | None = None) -> None:  # fmt: skip
        self.view = build_view(self.lab, symbol_or_sector, start=start, end=end, include=include, context=context)
        self.header.value = self._header()
        self.figure = show_figure(self, self.figure, multimodal_figure(self.view))
        self.target.value = str(symbol_or_sector)
