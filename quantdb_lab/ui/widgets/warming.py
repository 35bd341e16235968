"""``WarmingPanel``: what the cache warmer predicts, what it is doing, and whether warming pays off.

Predictions (above and below the threshold, with reasons), the warmer's state (this kernel's, or the last
state any warmer on the cache directory wrote, e.g. cron's), and the measured value: warmed entries, how many
were used, the hit rate and the share of warming calls not used. The cache-monitor dashboard can embed it.
A thin view: ``refresh()``, ``warm_now()`` and ``toggle()`` are what the buttons call, and the HTML comes from
the pure functions below, so tests drive it without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import traitlets

from quantdb_lab.errors import QuantdbError
from quantdb_lab.lab import Lab
from quantdb_lab.prefetch import THRESHOLD, Warmer, predictions_frame, read_state
from quantdb_lab.ui.cache_report import html_table, percent

MAX_ROWS = 30  # predictions shown


def prediction_rows(predictions: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    return [
        {
            "symbol": p["symbol"],
            "adjust": p["adjust"] or "raw",
            "through": p["end"],
            "confidence": f"{p['confidence']:.2f}",
            "warm?": "yes" if p["confidence"] >= threshold else "no",
            "ready by": p["ready_by"].strftime("%m-%d %H:%M") if p.get("ready_by") else "",
            "why": p["reason"],
        }
        for p in predictions[:MAX_ROWS]
    ]


def value_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"measure": "warmed entries", "value": summary.get("warmed_entries", 0)},
        {"measure": "later used", "value": summary.get("warmed_used", 0)},
        {"measure": "hit rate (used / warmed)", "value": percent(summary.get("warm_hit_rate"))},
        {"measure": "uses of warmed entries by reads", "value": summary.get("warm_hits", 0)},
        {"measure": "warming calls", "value": summary.get("warming_calls", 0)},
        {"measure": "calls not (yet) used", "value": f"{summary.get('warming_calls_unused', 0)} "
                                                       f"({percent(summary.get('wasted_share'))})"},
    ]  # fmt: skip


def state_html(state: Mapping[str, Any]) -> str:
    running = state.get("running") or state.get("alive")
    phase = state.get("phase", "never run")
    progress = f"{state.get('done', 0)}/{state.get('total', 0)}" if state.get("total") else ""
    parts = [f"<b>warmer:</b> {'running' if running else 'not running'} ({html.escape(str(phase))})"]
    if progress:
        parts.append(f"<b>progress:</b> {progress}, {state.get('calls', 0)} calls")
    if state.get("current") and running:
        parts.append(f"<b>now:</b> {html.escape(str(state['current']))}")
    if state.get("updated_at"):
        parts.append(f"<b>updated:</b> {html.escape(str(state['updated_at']))}")
    return '<p class="qdb-warming-state">' + " &middot; ".join(parts) + "</p>"


class WarmingPanel(widgets.VBox):
    """``WarmingPanel(lab)`` or ``WarmingPanel(lab, warmer=Warmer(lab))`` to control a background warmer."""

    threshold = traitlets.Float(THRESHOLD)
    predictions = traitlets.List(help="the last predictions, as dicts, in warming order")
    warmer_state = traitlets.Dict()
    summary = traitlets.Dict(help="lab.stats()['warming']")
    message = traitlets.Unicode("")
    logged = traitlets.Int(0, help="entries in the usage log")

    def __init__(self, lab: Lab, *, warmer: Warmer | None = None, threshold: float = THRESHOLD, **kwargs: Any) -> None:
        self.lab = lab
        self.warmer = warmer if warmer is not None else Warmer(lab, threshold=threshold)
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.warm_button = widgets.Button(description="Warm now", icon="fire", button_style="warning")
        self.toggle_button = widgets.Button(description="Start background", icon="play")
        self.state_view = widgets.HTML("")
        self.value_view = widgets.HTML("")
        self.table_view = widgets.HTML("")
        self.notice = widgets.HTML("")
        super().__init__(
            children=[
                widgets.HBox([self.refresh_button, self.warm_button, self.toggle_button]),
                self.notice,
                self.state_view,
                widgets.HTML("<h4>Value of warming</h4>"),
                self.value_view,
                widgets.HTML("<h4>Predicted next requests</h4>"),
                self.table_view,
            ],
            **kwargs,
        )
        self.add_class("qdb-warming")
        self.threshold = threshold
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.warm_button.on_click(lambda _b: self.warm_now())
        self.toggle_button.on_click(lambda _b: self.toggle())
        self.refresh()

    @traitlets.validate("threshold")
    def _valid_threshold(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise traitlets.TraitError(f"threshold must lie in [0, 1], not {value}")
        return value

    @traitlets.observe("threshold")
    def _threshold_changed(self, change: Any) -> None:
        self.warmer.threshold = change["new"]

    def refresh(self) -> None:
        try:
            log = self.lab.usage()
            self.predictions = predictions_frame(self.warmer.predictions(log)).to_dicts()
            self.logged = log.height
            self.summary = self.lab.tracking.ledger.summary()
        except QuantdbError as exc:
            self.message = f"{type(exc).__name__}: {exc}"
        own = self.warmer.state
        self.warmer_state = own if own.get("running") else {**read_state(self.lab), "running": False}
        self._draw()

    def warm_now(self) -> None:
        try:
            report = self.warmer.run_once()
            self.message = f"warmed {report.warmed} series with {report.calls} calls ({report.already_warm} already warm)"
        except QuantdbError as exc:
            self.message = f"{type(exc).__name__}: {exc}"
        self.refresh()

    def toggle(self) -> None:
        try:
            if self.warmer.running:
                self.warmer.stop()
            else:
                self.warmer.start()
            self.message = ""
        except QuantdbError as exc:
            self.message = f"{type(exc).__name__}: {exc}"
        self.refresh()

    def _draw(self) -> None:
        self.toggle_button.description = "Stop background" if self.warmer.running else "Start background"
        self.notice.value = f"<p><i>{html.escape(self.message)}</i></p>" if self.message else ""
        self.state_view.value = state_html(self.warmer_state)
        self.value_view.value = html_table(value_rows(self.summary))
        rows = prediction_rows(self.predictions, self.threshold)
        self.table_view.value = html_table(rows, empty=(
            "no predictions: nothing asked recently reads up to now (a request with a fixed past end is final)"
            if self.logged else "no predictions yet: the usage log is empty"
        ))  # fmt: skip
