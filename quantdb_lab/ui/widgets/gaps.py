"""``GapSynthesisWidget``: pick a symbol and range, see its gaps, the fill with its band, sampled paths, scores.

A thin view over ``lab.synthesize`` (and ``bars`` under the "flag" gap policy to show the gaps). State lives in
validated traits; ``find_gaps()``, ``fill()`` and ``sample_paths()`` are what the buttons do, so tests drive
the widget without a browser. A frame can be given instead of a symbol (e.g. a real series read from CSV).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import polars as pl
import traitlets

from quantdb_lab import Lab
from quantdb_lab.errors import QualityGateError, QuantdbError
from quantdb_lab.loader.gapfill import ReferenceSpec
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

METHODS = ("statespace", "bridge")


class GapSynthesisWidget(widgets.VBox):
    """``GapSynthesisWidget(lab, symbol="600519", start=..., end=...)`` or ``GapSynthesisWidget(lab, frame=...)``."""

    symbol = traitlets.Unicode("")
    method = traitlets.Unicode("statespace")
    level = traitlets.Float(0.9)
    n_paths = traitlets.Int(5)
    message = traitlets.Unicode("")

    def __init__(
        self,
        lab: Lab,
        symbol: str = "",
        *,
        start: date | None = None,
        end: date | None = None,
        frame: pl.DataFrame | None = None,
        reference: ReferenceSpec = None,
        fill_suspensions: bool = False,
        **kwargs: Any,
    ) -> None:
        self.lab = lab
        self.frame = frame
        self.reference = reference
        self.gaps: list[date] = []
        self.filled: pl.DataFrame | None = None
        self.reports: tuple = ()
        self.symbol_box = widgets.Text(value=symbol, description="Symbol", layout=widgets.Layout(width="220px"))
        self.start_box = widgets.DatePicker(value=start, description="From")
        self.end_box = widgets.DatePicker(value=end, description="To")
        self.method_box = widgets.Dropdown(options=METHODS, value="statespace", description="Method")
        self.suspensions_box = widgets.Checkbox(value=fill_suspensions, description="fill suspensions")
        self.paths_box = widgets.BoundedIntText(value=5, min=1, max=50, description="Paths")
        self.gaps_button = widgets.Button(description="Find gaps", icon="search")
        self.fill_button = widgets.Button(description="Fill", button_style="primary", icon="magic")
        self.paths_button = widgets.Button(description="Sample paths", icon="random")
        self.status = widgets.HTML("")
        self.scores = widgets.HTML("")
        self.figure = figure_widget(_chart())  # redrawn through show_figure, never add_trace (figure_view)
        controls = widgets.HBox([self.symbol_box, self.start_box, self.end_box])
        actions = widgets.HBox([self.method_box, self.suspensions_box, self.paths_box, self.gaps_button,
                                self.fill_button, self.paths_button])  # fmt: skip
        super().__init__(children=[controls, actions, self.status, self.figure, self.scores], **kwargs)
        self.symbol = symbol
        widgets.link((self.symbol_box, "value"), (self, "symbol"))
        widgets.link((self.method_box, "value"), (self, "method"))
        widgets.link((self.paths_box, "value"), (self, "n_paths"))
        self.gaps_button.on_click(lambda _b: self.find_gaps())
        self.fill_button.on_click(lambda _b: self.fill())
        self.paths_button.on_click(lambda _b: self.sample_paths())
        self.observe(lambda change: setattr(self.status, "value", html.escape(change["new"])), names="message")

    # -- validation ----------------------------------------------------------------------------------
    @traitlets.validate("method")
    def _valid_method(self, proposal: Any) -> str:
        if proposal["value"] not in METHODS:
            raise traitlets.TraitError(f"method must be one of {METHODS}")
        return proposal["value"]

    @traitlets.validate("level")
    def _valid_level(self, proposal: Any) -> float:
        if not 0.0 < proposal["value"] < 1.0:
            raise traitlets.TraitError("level must lie strictly between 0 and 1")
        return proposal["value"]

    @traitlets.validate("n_paths")
    def _valid_paths(self, proposal: Any) -> int:
        if not 1 <= proposal["value"] <= 50:
            raise traitlets.TraitError("n_paths must lie in 1..50")
        return proposal["value"]

    # -- actions -------------------------------------------------------------------------------------
    def _synthesize(self, **options: Any) -> pl.DataFrame:
        target = self.frame if self.frame is not None else self.symbol
        return self.lab.synthesize(target, start=self.start_box.value, end=self.end_box.value,
                                   reference=self.reference, method=self.method, level=self.level,
                                   fill_suspensions=self.suspensions_box.value, **options)  # fmt: skip

    def find_gaps(self) -> list[date]:
        """The missing sessions (under the "flag" policy for a symbol; the fill's rows for a given frame)."""
        try:
            if self.frame is None:
                flagged = self.lab.using(self.lab.mode.with_(gap_policy="flag")).bars(
                    self.symbol, start=self.start_box.value, end=self.end_box.value
                )
                self.gaps = flagged.filter(pl.col("is_gap"))["date"].to_list()
                self._draw(flagged.filter(~pl.col("is_gap")))
            else:
                self.fill()
                return self.gaps
        except QuantdbError as exc:
            self.message = f"error: {exc}"
            return []
        self.message = f"{len(self.gaps)} missing session(s)" + (f": {_days(self.gaps)}" if self.gaps else "")
        return self.gaps

    def fill(self) -> pl.DataFrame | None:
        """Fill with draw="mean"; a refusal shows its reason and the scores instead of a chart."""
        try:
            self.filled = self._synthesize(draw="mean")
            self.reports = self.filled.quantdb.provenance.synthesis
        except QualityGateError as exc:
            self.filled, self.reports = None, getattr(exc, "reports", ())
            self.message = f"refused: {exc.reason}"
            self.scores.value = score_table(self.reports)
            return None
        except QuantdbError as exc:
            self.message = f"error: {exc}"
            return None
        self.gaps = self.filled.filter(pl.col("is_synthetic"))["date"].to_list()
        self._draw(self.filled)
        self.scores.value = score_table(self.reports)
        refused = [r for r in self.reports if not r.accepted]  # refusal is per gap: the others are filled
        self.message = f"filled {len(self.gaps)} session(s) in {len(self.reports) - len(refused)} gap(s)" + "".join(
            f"; refused {r.start}..{r.end}: {r.reason}" for r in refused
        )
        return self.filled

    def sample_paths(self, n: int | None = None) -> list[pl.DataFrame]:
        """``n`` (default ``n_paths``) fills with draw="sample", seeds 0..n-1, added to the chart."""
        if self.filled is None and self.fill() is None:
            return []
        paths = []
        figure = go.Figure(self.figure)  # what is shown, plus the paths
        for seed in range(n or self.n_paths):
            try:
                path = self._synthesize(draw="sample", seed=seed)
            except QuantdbError as exc:
                self.message = f"path {seed} refused: {exc}"
                continue
            paths.append(path)
            xs, ys = _per_gap(path, "close")
            figure.add_scatter(x=xs, y=ys, mode="markers+lines", name=f"sample {seed}", opacity=0.5,
                               line={"width": 1, "color": style.palette().synthetic}, connectgaps=False)  # fmt: skip
        self.figure = show_figure(self, self.figure, figure)
        self.message = f"{len(paths)} sampled path(s) drawn"
        return paths

    def _draw(self, frame: pl.DataFrame) -> None:
        self.figure = show_figure(self, self.figure, self._chart_of(frame))

    def _chart_of(self, frame: pl.DataFrame) -> go.Figure:
        figure = _chart()
        colours = style.palette()
        # the real close, broken (None) where a session is missing or synthetic: a line never bridges a gap
        closes = frame["close"].to_list()
        if "is_synthetic" in frame.columns:
            closes = [None if s else c for c, s in zip(closes, frame["is_synthetic"].to_list(), strict=True)]
        figure.add_scatter(x=frame["date"].to_list(), y=closes, mode="lines", name="real close",
                           line={"color": colours.real, "width": 1.5}, connectgaps=False)  # fmt: skip
        if "is_synthetic" not in frame.columns:
            for day in self.gaps:
                figure.add_vline(x=day, line={"color": colours.flagged, "dash": "dot", "width": 1})
            return figure
        synthetic = frame.filter(pl.col("is_synthetic"))
        if synthetic.is_empty():
            return figure
        band_x, band_y = gap_bands(frame)
        figure.add_scatter(x=band_x, y=band_y, fill="toself", mode="lines", line={"width": 0},
                           fillcolor=colours.band, hoverinfo="skip",
                           name=f"{self.level:.0%} band")  # fmt: skip
        figure.add_scatter(x=synthetic["date"].to_list(), y=synthetic["close"].to_list(), mode="markers",
                           marker={"color": colours.synthetic, "symbol": "diamond"},
                           name="synthetic close")  # fmt: skip
        return figure


def gap_runs(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The synthetic rows of ``frame`` (in date order) as runs: rows with no real row between them."""
    ordered = frame.sort("date").with_row_index("_i")
    synthetic = ordered.filter(pl.col("is_synthetic"))
    if synthetic.is_empty():
        return []
    run = (synthetic["_i"].diff().fill_null(1) != 1).cum_sum()
    return [part.drop("_i") for part in synthetic.with_columns(run.alias("_run")).partition_by("_run", maintain_order=True, include_key=False)]


def _per_gap(frame: pl.DataFrame, column: str) -> tuple[list, list]:
    """``column`` of the synthetic rows, one segment per gap (None between): a line never joins two gaps."""
    xs: list = []
    ys: list = []
    for part in gap_runs(frame):
        xs += [*([None] if xs else []), *part["date"].to_list()]
        ys += [*([None] if ys else []), *part[column].to_list()]
    return xs, ys


def gap_bands(frame: pl.DataFrame) -> tuple[list, list]:
    """One closed polygon per gap (close_hi forward, close_lo back), separated by None: plotly's ``toself``
    closes each segment on its own, so no band is drawn across the real bars between two gaps."""
    xs: list = []
    ys: list = []
    for part in gap_runs(frame):
        days = part["date"].to_list()
        if xs:
            xs.append(None)
            ys.append(None)
        xs += days + days[::-1]
        ys += part["close_hi"].to_list() + part["close_lo"].to_list()[::-1]
    return xs, ys


def _chart() -> go.Figure:
    """The chart's frame, no trace yet."""
    return style.figure(style.title("gap_chart"), y="close")


def score_table(reports: tuple) -> str:
    """The validation of each gap as an HTML table."""
    if not reports:
        return ""
    rows = "".join(
        f"<tr><td>{r.start}..{r.end}</td><td>{r.sessions}</td><td>{r.score:.3f}</td>"
        f"<td>{'accepted' if r.accepted else 'refused'}</td><td>{r.vol_ratio:.2f}</td><td>{r.band_width:.1%}</td>"
        f"<td>{html.escape(r.reason or '; '.join(r.notes))}</td></tr>"
        for r in reports
    )
    head = "<tr><th>gap</th><th>sessions</th><th>score</th><th></th><th>vol ratio</th><th>band</th><th>notes</th></tr>"
    return f"<table>{head}{rows}</table>"


def _days(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:8])
    return shown + (f" and {len(days) - 8} more" if len(days) > 8 else "")
