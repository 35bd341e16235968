"""The one look of every chart in the widgets: colours, labels, axes, the price-over-volume layout.

- Rises and falls: red up, green down by default (the Chinese convention); ``$QUANTDB_LAB_CHART_COLOURS=green-up``
  swaps them (``config.colour_convention``). Candles, volume bars, signed bars and news markers all follow it.
- Data kinds: real, synthetic and flagged data have one colour each, on every chart.
- Labels: every axis is titled with its unit, in Chinese and English (``$QUANTDB_LAB_CHART_LANGUAGE`` = ``both``,
  ``zh`` or ``en``); fractions are shown as percentages by the axis (``tickformat``), never multiplied by hand.
- No named plotly template: copying one costs tens of milliseconds per figure; the layout is set directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantdb_lab.config import chart_language, colour_convention

WIDTH = 900  # px: Voila sizes an unsized FigureWidget too narrow
RED, GREEN = "#e03c31", "#1a9850"
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, Arial, sans-serif"
GRID = "#e6e6e6"
PERCENT = ".1%"  # axis and hover format of fractions (0.0512 shows as 5.1%)


@dataclass(frozen=True, slots=True)
class Palette:
    up: str
    down: str
    real: str = "#1f4e79"  # a real series (close, line)
    synthetic: str = "#ff8c00"  # synthetic rows (fills, sampled paths, the simulated market's own banner)
    band: str = "rgba(255,140,0,0.22)"  # the band around synthetic rows
    flagged: str = "#8e24aa"  # rows a check flagged (quality markers, missing sessions)
    neutral: str = "#8c8c8c"
    series: tuple[str, ...] = ("#1f4e79", "#ff8c00", "#2a9d8f", "#8e24aa", "#e9c46a", "#6d597a", "#264653")


def palette(convention: str | None = None) -> Palette:
    """The colours under ``convention`` (``red-up`` or ``green-up``; default from the environment)."""
    convention = convention or colour_convention()
    if convention not in ("red-up", "green-up"):
        raise ValueError(f"convention must be 'red-up' or 'green-up', not {convention!r}")
    return Palette(up=RED, down=GREEN) if convention == "red-up" else Palette(up=GREEN, down=RED)


LABELS_FILE = Path(__file__).resolve().parent / "chart_labels.json"  # Chinese text lives in data, not in code


@cache
def _labels() -> dict[str, dict[str, list[str]]]:
    return json.loads(LABELS_FILE.read_text(encoding="utf-8"))


def label(key: str, *, language: str | None = None, unit: bool = True) -> str:
    """``label("price")`` -> ``"Price <Chinese> (CNY)"`` (or one language): an axis title with its unit."""
    english, chinese, suffix = _labels()["axes"][key]
    text = _in(language or chart_language(), english, chinese)
    return f"{text} ({suffix})" if unit and suffix else text


def title(key: str, *, language: str | None = None) -> str:
    """A chart or banner title in English and Chinese (or one of them), from ``chart_labels.json``."""
    english, chinese = _labels()["titles"][key]
    return _in(language or chart_language(), english, chinese)


def _in(language: str, english: str, chinese: str) -> str:
    return {"both": f"{english} {chinese}", "en": english, "zh": chinese}[language]


def _axis(title: str | None = None, **extra: Any) -> dict[str, Any]:
    axis = {"gridcolor": GRID, "zeroline": False, "showline": True, "linecolor": "#bbb", **extra}
    if title is not None:
        axis["title"] = {"text": title}
    return axis


def base_layout(title: str, *, height: int = 420, **extra: Any) -> dict[str, Any]:
    """The layout every chart starts from: title, width, font with CJK glyphs, white background, legend on top."""
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left"}, "width": WIDTH, "height": height,
        "font": {"family": FONT, "size": 12, "color": "#222"}, "paper_bgcolor": "white", "plot_bgcolor": "white",
        "hovermode": "x unified", "margin": {"l": 70, "r": 30, "t": 60, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        **extra,
    }  # fmt: skip


def figure(title: str, *, height: int = 420, x: str = "date", y: str = "price", percent: bool = False) -> go.Figure:
    """One panel, its axes titled (``x``/``y``: axis keys of chart_labels.json); ``percent``: y holds fractions shown in %."""
    yaxis = _axis(label(y), **({"tickformat": PERCENT, "hoverformat": PERCENT} if percent else {}))
    return go.Figure(layout={**base_layout(title, height=height), "xaxis": _axis(label(x)), "yaxis": yaxis})


def price_volume_figure(title: str, *, height: int = 520, price: str = "price") -> go.Figure:
    """Price above (row 1), volume below (row 2) on a shared date axis, both titled with units; no trace yet."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    fig.update_layout(**base_layout(title, height=height), xaxis_rangeslider_visible=False)
    fig.update_layout(xaxis=_axis(), xaxis2=_axis(label("date")), yaxis=_axis(label(price)),
                      yaxis2=_axis(label("volume")))  # fmt: skip
    return fig


def up_down(opens: Sequence[float | None], closes: Sequence[float | None], colours: Palette | None = None) -> list[str]:
    """One colour per bar: ``up`` where the close is at or above the open, else ``down``."""
    colours = colours or palette()
    return [colours.up if o is None or c is None or c >= o else colours.down for o, c in zip(opens, closes, strict=True)]


def signed(values: Sequence[float | None], colours: Palette | None = None) -> list[str]:
    """One colour per value: ``up`` for a positive one, ``down`` for a negative one, neutral for zero or None."""
    colours = colours or palette()
    return [colours.neutral if v is None or v == 0 else colours.up if v > 0 else colours.down for v in values]


def add_candles(fig: go.Figure, frame: Any, name: str, *, row: int = 1, volume_row: int | None = 2) -> go.Figure:
    """Candlesticks of ``frame`` (date, open, high, low, close[, volume]) and, below, its volume coloured the same."""
    colours = palette()
    opens, closes = frame["open"].to_list(), frame["close"].to_list()
    fig.add_trace(go.Candlestick(
        x=frame["date"].to_list(), open=opens, high=frame["high"].to_list(), low=frame["low"].to_list(),
        close=closes, name=name,
        increasing={"line": {"color": colours.up}, "fillcolor": colours.up},
        decreasing={"line": {"color": colours.down}, "fillcolor": colours.down},
    ), row=row, col=1)  # fmt: skip
    if volume_row is not None and "volume" in frame.columns:
        add_volume(fig, frame, row=volume_row)
    return fig


def add_volume(fig: go.Figure, frame: Any, *, row: int = 2) -> go.Figure:
    """Volume bars of ``frame`` in ``row``, red/green by the day's close against its open."""
    colours = up_down(frame["open"].to_list(), frame["close"].to_list()) if "open" in frame.columns else None
    fig.add_trace(go.Bar(x=frame["date"].to_list(), y=frame["volume"].to_list(), name="volume",
                         marker={"color": colours or palette().neutral}, showlegend=False), row=row, col=1)  # fmt: skip
    return fig


def restyle(fig: go.Figure) -> go.Figure:
    """Bring a figure built elsewhere (the query layer's answers) to this style, in place: font, background,
    candle colours, and bars coloured by their sign recoloured by the convention."""
    colours = palette()
    layout = base_layout(fig.layout.title.text or "", height=fig.layout.height or 420)
    layout.pop("margin")
    layout.pop("legend")
    fig.update_layout(**layout)
    fig.update_xaxes(gridcolor=GRID, showline=True, linecolor="#bbb")
    fig.update_yaxes(gridcolor=GRID, showline=True, linecolor="#bbb")
    for trace in fig.data:
        if trace.type == "candlestick":
            trace.increasing = {"line": {"color": colours.up}, "fillcolor": colours.up}
            trace.decreasing = {"line": {"color": colours.down}, "fillcolor": colours.down}
        elif trace.type == "bar" and trace.marker.color is not None and not isinstance(trace.marker.color, str):
            values = trace.x if trace.orientation == "h" else trace.y
            trace.marker.color = signed(list(values))
    return fig
