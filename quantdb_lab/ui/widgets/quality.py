"""``QualityReportWidget``: the score of each symbol, its issues, a price/volume chart with every issue marked,
and buttons to mark the selected issue a false positive or confirm it (stored through ``lab.feedback``).

A thin view over ``lab.quality``: state lives in validated traits (``symbol``, ``issue``), and the buttons
call ``mark(verdict)``, so tests drive it without a browser. After a decision the report is recomputed from
the same frame, so the score and statuses shown are those later reports will give. The chart is built as a
``go.Figure`` and shown through ``show_figure`` (see ``figure_view``), never by adding traces to a FigureWidget.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import polars as pl
import traitlets

from quantdb_lab import Lab
from quantdb_lab.quality import QualityReport
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets.figure_view import figure_widget, show_figure

# flagged rows share the flagged colour; the severity is told by the marker
SEVERITY_MARKERS = {"error": ("x", 11), "warning": ("triangle-up", 9), "info": ("circle-open", 8)}


class QualityReportWidget(widgets.VBox):
    """``QualityReportWidget(lab, frame)`` (or ``report=`` to show an existing report without a frame)."""

    symbol = traitlets.Unicode("", help="the symbol shown")
    issue = traitlets.Int(-1, help="row of the selected issue in issues_of(symbol), -1 for none")
    message = traitlets.Unicode("")

    def __init__(self, lab: Lab | None = None, frame: pl.DataFrame | None = None, *,
                 report: QualityReport | None = None, **kwargs: Any) -> None:  # fmt: skip
        if report is None and (lab is None or frame is None):
            raise ValueError("give a Lab and a frame, or a report")
        self.lab, self.frame = lab, frame
        self.report = report if report is not None else lab.quality(frame)  # type: ignore[union-attr]
        self.scores_html = widgets.HTML()
        self.symbol_box = widgets.Dropdown(description="Symbol", options=[])
        self.issue_box = widgets.Select(description="Issues", options=[], rows=10, layout=widgets.Layout(width="880px"))
        self.false_button = widgets.Button(description="False positive", icon="times", disabled=True)
        self.confirm_button = widgets.Button(description="Confirm", icon="check", disabled=True)
        self.notice = widgets.HTML()
        self.figure = figure_widget(_chart())
        super().__init__(**kwargs)
        self.children = [self.scores_html, self.symbol_box, self.figure, self.issue_box,
                         widgets.HBox([self.false_button, self.confirm_button]), self.notice]  # fmt: skip
        self.symbol_box.observe(lambda change: setattr(self, "symbol", change["new"] or ""), names="value")
        self.issue_box.observe(lambda change: setattr(self, "issue", change["new"] if change["new"] is not None else -1),
                               names="value")  # fmt: skip
        self.false_button.on_click(lambda _: self.mark("false_positive"))
        self.confirm_button.on_click(lambda _: self.mark("confirmed"))
        self._show_report()

    # -- traits -------------------------------------------------------------------------------------------
    @traitlets.validate("symbol")
    def _valid_symbol(self, proposal: dict) -> str:
        value = proposal["value"]
        if value and value not in self.report.score.by_symbol:
            raise traitlets.TraitError(f"{value} is not in the report")
        return value

    @traitlets.validate("issue")
    def _valid_issue(self, proposal: dict) -> int:
        value = proposal["value"]
        if not -1 <= value < self.issues_of(self.symbol).height:
            raise traitlets.TraitError(f"no issue {value} for {self.symbol}")
        return value

    @traitlets.observe("symbol")
    def _on_symbol(self, change: dict) -> None:
        self.symbol_box.value = change["new"] or None
        rows = self.issues_of(change["new"])
        self.issue_box.options = [(self._label(r), i) for i, r in enumerate(rows.iter_rows(named=True))]
        self.issue = -1
        self._draw()

    @traitlets.observe("issue")
    def _on_issue(self, change: dict) -> None:
        self.issue_box.value = change["new"] if change["new"] >= 0 else None
        enabled = change["new"] >= 0 and self.lab is not None
        self.false_button.disabled = self.confirm_button.disabled = not enabled

    # -- logic (no browser needed) ------------------------------------------------------------------------
    def issues_of(self, symbol: str) -> pl.DataFrame:
        """The symbol's issues (suspensions left out: they are not defects), in the order listed."""
        return self.report.issues.filter((pl.col("symbol") == symbol) & (pl.col("check") != "suspension"))

    def selected(self) -> dict | None:
        return None if self.issue < 0 else self.issues_of(self.symbol).row(self.issue, named=True)

    def mark(self, verdict: str) -> None:
        """Store a decision on the selected issue and recompute the report from the same frame."""
        row = self.selected()
        if row is None or self.lab is None:
            self.message = "select an issue first"
            return
        self.lab.feedback(row["symbol"], row["check"], row["date"], verdict=verdict)
        if self.frame is not None:
            self.report = self.lab.quality(self.frame, threshold=self.report.threshold)
        self.message = f"{row['check']} on {row['date']} marked {verdict.replace('_', ' ')}"
        keep = self.symbol
        self._show_report()
        self.symbol = keep
        self._on_symbol({"new": keep})

    def markers(self) -> pl.DataFrame:
        """Where the chart marks issues: date, close (the previous close for sessions without a bar), check."""
        bars = self._bars()
        issues = self.issues_of(self.symbol).sort("date")
        if bars.is_empty() or issues.is_empty():
            return pl.DataFrame(schema={"date": pl.Date, "close": pl.Float64, "check": pl.String, "severity": pl.String})
        return issues.join_asof(bars.select("date", "close").sort("date"), on="date", strategy="backward").select(
            "date", "close", "check", "severity"
        )

    # -- drawing --------------------------------------------------------------------------------------------
    def _show_report(self) -> None:
        scores = self.report.scores.sort("score")
        rows = "".join(
            f"<tr><td>{r['symbol']}</td><td>{r['score']:.5f}</td><td>{r['rows']}</td></tr>" for r in scores.iter_rows(named=True)
        )
        verdict = "passed" if self.report.passed else "failed"
        self.scores_html.value = (
            f"<b>Overall {self.report.score.overall:.5f}</b> ({verdict} at {self.report.threshold})"
            f"<table><tr><th>symbol</th><th>score</th><th>rows</th></tr>{rows}</table>"
        )
        self.symbol_box.options = scores["symbol"].to_list()
        self.notice.value = self.message
        if not self.symbol and scores.height:
            self.symbol = scores["symbol"][0]

    def _bars(self) -> pl.DataFrame:
        return self.report.corrected.filter(pl.col("symbol") == self.symbol)

    def _draw(self) -> None:
        bars, marks = self._bars(), self.markers()
        figure = _chart()
        colours = style.palette()
        figure.add_scatter(x=bars["date"].to_list(), y=bars["close"].to_list(), name="close",
                           row=1, col=1, line={"color": colours.real})  # fmt: skip
        style.add_volume(figure, bars, row=2)
        for severity, (symbol, size) in SEVERITY_MARKERS.items():
            part = marks.filter(pl.col("severity") == severity)
            if part.height:
                figure.add_scatter(
                    x=part["date"].to_list(), y=part["close"].to_list(), mode="markers", name=severity,
                    text=part["check"].to_list(), marker={"color": colours.flagged, "size": size, "symbol": symbol}, row=1, col=1,
                )  # fmt: skip
        figure.update_layout(title_text=f"{self.symbol}: score {self.report.score.by_symbol.get(self.symbol, 1.0):.5f}")
        self.figure = show_figure(self, self.figure, figure)

    @staticmethod
    def _label(row: dict) -> str:
        return f"{row['date']}  {row['severity']:<7}  {row['check']:<20} [{row['status']}]  {row['detail']}"


def _chart() -> go.Figure:
    """Price above, volume below, no trace yet."""
    return style.price_volume_figure(style.title("quality_chart"), height=480, price="close")
