"""``PortfolioFetchWidget``: paste a portfolio, pick dates, adjustment and mode, fetch with live progress, then
see the status table, the normalised performance chart and candlesticks of one member.

A thin view over ``lab.portfolio``: the state it acts on lives in validated traits (``symbols``, ``start``,
``end``, ``adjust``, ``mode``, ``selected``, ``state``), so tests drive it by setting controls and calling
``fetch()`` (what the button's click calls), with no browser. Charts are plotly ``FigureWidget`` with a set
width: under Voila a static figure logs renderer errors and an unsized FigureWidget comes out narrow. Each
chart is built as a ``go.Figure`` and shown through ``show_figure`` (see ``figure_view``), never by adding
traces to a FigureWidget, whose additions never reach a page that connects later (Voila).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import traitlets

from quantdb_lab import BACKTESTING, RESEARCH, TRADING, Lab
from quantdb_lab.errors import QuantdbError
from quantdb_lab.portfolio import PORTFOLIO, PortfolioProgress, PortfolioResult, parse_portfolio_text
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui import page
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

ADJUST_OPTIONS = (("qfq (forward-adjusted)", "qfq"), ("hfq (back-adjusted)", "hfq"), ("none (as traded)", ""))
MODE_NAMES = tuple(m.name for m in (RESEARCH, TRADING, BACKTESTING))
STATES = ("idle", "fetching", "done", "interrupted", "error")


class PortfolioFetchWidget(widgets.VBox):
    """``PortfolioFetchWidget(lab)``; with no Lab, one is made from the environment on the first fetch."""

    symbols = traitlets.List(traitlets.Unicode(), help="canonical symbols of the last valid portfolio text")
    weights = traitlets.Dict(allow_none=True, default_value=None)
    start = traitlets.Instance(date, allow_none=True)
    end = traitlets.Instance(date, allow_none=True)
    adjust = traitlets.Unicode("qfq")
    mode = traitlets.Unicode("research")
    selected = traitlets.Unicode("", help="the member shown as candlesticks")
    state = traitlets.Unicode("idle")
    message = traitlets.Unicode("")
    result = traitlets.Instance(PortfolioResult, allow_none=True)

    def __init__(self, lab: Lab | None = None, *, symbols: str = "", start: date | None = None, end: date | None = None, **kwargs: Any) -> None:
        self.lab = lab
        self.symbols_box = widgets.Textarea(
            value=symbols, placeholder="600519 0.4\n000001.SZ 0.6\n(or paste: 600519, 000001 300750)",
            description="Symbols", layout=widgets.Layout(width="420px", height="120px"),
        )  # fmt: skip
        self.start_picker = widgets.DatePicker(description="Start", value=start if start is not None else date.today() - timedelta(days=365))
        self.end_picker = widgets.DatePicker(description="End", value=end)
        self.adjust_box = widgets.Dropdown(description="Adjust", options=ADJUST_OPTIONS, value="qfq")
        initial_mode = lab.mode.name if lab is not None and lab.mode.name in MODE_NAMES else "research"
        self.mode_box = widgets.Dropdown(description="Mode", options=MODE_NAMES, value=initial_mode)
        self.fetch_button = widgets.Button(description="Fetch", button_style="primary", icon="download")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress")
        self.counts = widgets.Label("")
        self.notice = widgets.HTML("")
        self.summary = widgets.HTML("")
        self.member_box = widgets.Dropdown(description="Candles", options=[])
        self._holding_candles = False  # True while _render changes the member list: one redraw at its end
        self.performance_figure = figure_widget(performance_chart(None))
        self.candle_figure = figure_widget(candle_chart(None, ""))
        super().__init__(
            children=[
                widgets.HBox([self.symbols_box, widgets.VBox([self.start_picker, self.end_picker, self.adjust_box, self.mode_box])]),
                widgets.HBox([self.fetch_button, self.progress, self.counts]),
                self.notice,
                self.summary,
                self.performance_figure,
                self.member_box,
                self.candle_figure,
            ],
            **kwargs,
        )
        self.mode = initial_mode
        self.fetch_button.on_click(lambda _button: self.fetch())
        self.member_box.observe(self._on_member, names="value")

    # -- validation (invariants live here, whatever sets the traits) -------------------------------------
    @traitlets.validate("start", "end")
    def _valid_range(self, proposal: Any) -> date | None:
        value = proposal["value"]
        other = self.end if proposal["trait"].name == "start" else self.start
        first, last = (value, other) if proposal["trait"].name == "start" else (other, value)
        if first is not None and last is not None and first > last:
            raise traitlets.TraitError(f"start {first} is after end {last}")
        return value

    @traitlets.validate("adjust")
    def _valid_adjust(self, proposal: Any) -> str:
        if proposal["value"] not in {value for _, value in ADJUST_OPTIONS}:
            raise traitlets.TraitError(f"adjust must be '', 'qfq' or 'hfq', not {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("mode")
    def _valid_mode(self, proposal: Any) -> str:
        if proposal["value"] not in MODE_NAMES:
            raise traitlets.TraitError(f"mode must be one of {MODE_NAMES}, not {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("state")
    def _valid_state(self, proposal: Any) -> str:
        if proposal["value"] not in STATES:
            raise traitlets.TraitError(f"state must be one of {STATES}, not {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> str:
        value = proposal["value"]
        if value and (self.result is None or value not in self.result.frames):
            raise traitlets.TraitError(f"{value!r} is not a fetched member of the portfolio")
        return value

    # -- actions -----------------------------------------------------------------------------------------
    def read_controls(self) -> bool:
        """Copy the controls into the traits; False (with ``message`` set) when they are invalid."""
        try:
            spec = parse_portfolio_text(self.symbols_box.value)
            with self.hold_trait_notifications():  # start and end are checked together, at the end
                self.start, self.end = self.start_picker.value, self.end_picker.value
            self.adjust, self.mode = self.adjust_box.value, self.mode_box.value
        except (QuantdbError, traitlets.TraitError) as exc:
            self._fail(str(exc))
            return False
        self.symbols, self.weights = list(spec.symbols), dict(spec.weights) if spec.weights else None
        return True

    def fetch(self) -> PortfolioResult | None:
        """What the Fetch button does; returns the result (None when the input was invalid)."""
        if self.state == "fetching" or not self.read_controls():
            return None
        self.state, self.message, self.notice.value = "fetching", "", ""
        self.fetch_button.disabled = True
        self.progress.max, self.progress.value, self.progress.bar_style = len(self.symbols), 0, "info"
        try:
            if self.lab is None:
                self.lab = Lab()
            result = self.lab.using(self.mode).portfolio(
                self.symbols, weights=self.weights, start=self.start, end=self.end, adjust=self.adjust,
                progress=self.on_progress, on_interrupt="return",
            )  # fmt: skip
        except QuantdbError as exc:
            self._fail(str(exc))
            return None
        finally:
            self.fetch_button.disabled = False
        self.result = result
        self.state = "interrupted" if result.interrupted else "done"
        self.progress.bar_style = "success" if result.ok else "warning"
        self.notice.value = f"<b>{_escape(result.summary())}</b>"
        return result

    def on_progress(self, event: PortfolioProgress) -> None:
        """The progress hook handed to ``lab.portfolio``: runs in the kernel's main thread."""
        self.progress.value = event.done
        note = f" ({event.note})" if event.note else ""
        self.counts.value = f"{event.done}/{event.total}: {event.from_cache} cached, {event.fetched} fetched, {event.failed} failed{note}"

    def _fail(self, message: str) -> None:
        self.message = message
        self.state = "error"
        self.notice.value = f"<span style='color:#b00'>{_escape(message)}</span>"

    # -- rendering ---------------------------------------------------------------------------------------
    @traitlets.observe("result")
    def _render(self, change: Any) -> None:
        result: PortfolioResult | None = change["new"]
        if result is None:
            return
        self.summary.value = page.table(result.status, decimals={"seconds": 2}, limit=200).markup
        self.performance_figure = show_figure(self, self.performance_figure, performance_chart(result))
        members = [s for s in result.symbols if s in result.frames and result.frames[s].height]
        self._holding_candles = True
        try:
            self.selected = ""
            self.member_box.options = members
            if members:
                self.member_box.value = members[0]
            self.selected = members[0] if members else ""  # the dropdown is silent when its value stays the same
        finally:
            self._holding_candles = False
        self._draw_candles()

    def _on_member(self, change: Any) -> None:
        self.selected = change["new"] or ""  # _on_selected redraws

    @traitlets.observe("selected")
    def _on_selected(self, change: Any) -> None:
        if change["new"] and self.member_box.value != change["new"]:
            self.member_box.value = change["new"]
        self._draw_candles()

    def _draw_candles(self) -> None:
        if self._holding_candles:
            return
        figure = candle_chart(self.result, self.selected, self.adjust)
        self.candle_figure = show_figure(self, self.candle_figure, figure)


def performance_chart(result: PortfolioResult | None) -> go.Figure:
    """Each fetched member's cumulative return since its first close, and the portfolio's, in %."""
    figure = style.figure(style.title("cumulative_return"), height=380, y="cumulative_return", percent=True)
    if result is None:
        return figure
    performance = result.performance()
    colours = style.palette().series
    for i, name in enumerate([PORTFOLIO, *[s for s in result.symbols if s in result.frames]]):
        part = performance.filter(performance["series"] == name)
        if part.height:
            figure.add_scatter(
                x=part["date"].to_list(), y=[v - 1.0 for v in part["value"].to_list()], name=name, mode="lines",
                line={"width": 3 if name == PORTFOLIO else 1.5, "color": colours[i % len(colours)]},
            )  # fmt: skip
    return figure


def candle_chart(result: PortfolioResult | None, selected: str, adjust: str = "") -> go.Figure:
    """Candlesticks of the ``selected`` member of ``result`` over its volume (no trace when nothing is selected)."""
    if not selected or result is None:
        return style.price_volume_figure(style.title("candles"), height=480)
    figure = style.price_volume_figure(f"{selected} ({adjust or 'unadjusted'})", height=480)
    return style.add_candles(figure, result.frames[selected], selected)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
