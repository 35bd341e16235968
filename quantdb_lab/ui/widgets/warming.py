"""``WarmingPanel``: what the cache warmer predicts, what it is doing, and whether warming pays off.

Predictions in the order warming spends the budget (each with its rule, learned probability, calls, expected
value and cost, and whether it is warmed or why not), the warmer's state (this kernel's, or the last state any
warmer on the cache directory wrote, e.g. cron's), the measured value (warmed entries, how many were used, the
hit rate, the share of warming calls not used, today's budget) and what was learned per rule: settled
predictions, their hit share and the score a rule's confidence now earns. The cache-monitor dashboard can embed it.
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
from quantdb_lab.prefetch import THRESHOLD, Valued, Warmer, read_state
from quantdb_lab.ui.cache_report import html_table, percent

MAX_ROWS = 30  # predictions shown


def plan_dicts(plan: list[Valued]) -> list[dict[str, Any]]:
    """The warmer's plan as plain dicts (the panel's ``predictions`` trait)."""
    return [
        {"symbol": v.prediction.symbol, "adjust": v.prediction.adjust, "end": v.prediction.end,
         "confidence": v.prediction.confidence, "reason": v.prediction.reason, "ready_by": v.prediction.ready_by,
         "kind": v.prediction.kind, "members": len(v.prediction.symbols), "probability": v.probability,
         "calls": v.calls, "expected_value": v.expected_value, "cost": v.cost, "chosen": v.chosen,
         "why_not": v.why_not}
        for v in plan
    ]  # fmt: skip


def prediction_rows(predictions: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    rows = []
    for p in predictions[:MAX_ROWS]:
        chosen = p.get("chosen", p["confidence"] >= threshold)
        row = {
            "symbol": p["symbol"] + (f" ({p['members']})" if p.get("members", 1) > 1 else ""),
            "adjust": p["adjust"] or "raw",
            "through": p["end"],
            "rule": p.get("kind", ""),
            "confidence": f"{p['confidence']:.2f}",
            "learned": f"{p['probability']:.2f}" if "probability" in p else "",
            "calls": p.get("calls", ""),
            "value / cost": f"{p['expected_value']:.1f} / {p['cost']:.1f}" if "cost" in p else "",
            "warm?": ("yes" if chosen else "no") + (f": {p['why_not']}" if p.get("why_not") else ""),
            "ready by": p["ready_by"].strftime("%m-%d %H:%M") if p.get("ready_by") else "",
            "why": p["reason"],
        }
        rows.append(row)
    return rows


def learning_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``Outcomes.rows(priors)``: per rule, settled predictions, hit share, and prior -> learned score."""
    return [
        {"rule": r["kind"], "settled predictions": r["settled"], "hit share": percent(r["hit share"]),
         "score now": f"{r['prior']:.2f} -> {r['learned']:.2f}" if "learned" in r else ""}
        for r in rows
    ]  # fmt: skip


def value_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"measure": "warmed entries", "value": summary.get("warmed_entries", 0)},
        {"measure": "later used", "value": summary.get("warmed_used", 0)},
        {"measure": "hit rate (used / warmed)", "value": percent(summary.get("warm_hit_rate"))},
        {"measure": "uses of warmed entries by reads", "value": summary.get("warm_hits", 0)},
        {"measure": "warming calls", "value": summary.get("warming_calls", 0)},
        {"measure": "calls not (yet) used", "value": f"{summary.get('warming_calls_unused', 0)} "
                                                       f"({percent(summary.get('wasted_share'))})"},
        {"measure": "today's warming budget (calls)", "value": f"{summary.get('budget_spent', 0)} spent of "
                                                                f"{summary.get('budget', 0)}"},
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
    summary = traitlets.Dict(help="lab.stats()['warming'] and today's budget")
    learned = traitlets.List(help="Outcomes.rows(): what was learned per rule")
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
        self.learning_view = widgets.HTML("")
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
                widgets.HTML("<h4>Learned from outcomes, per rule</h4>"),
                self.learning_view,
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
            plan = self.warmer.plan(log)
            self.predictions = plan_dicts(plan)
            self.logged = log.height
            day = self.lab.clock.now().date()
            self.summary = {**self.lab.tracking.ledger.summary(), "budget": self.warmer.budget.per_day,
                            "budget_spent": self.warmer.budget.spent(day)}  # fmt: skip
            priors: dict[str, list[float]] = {}
            for v in plan:
                priors.setdefault(v.prediction.kind, []).append(v.prediction.confidence)
            self.learned = self.warmer.outcomes.rows({k: max(c) for k, c in priors.items()})
        except QuantdbError as exc:
            self.message = f"{type(exc).__name__}: {exc}"
        own = self.warmer.state
        self.warmer_state = own if own.get("running") else {**read_state(self.lab), "running": False}
        self._draw()

    def warm_now(self) -> None:
        try:
            report = self.warmer.run_once()
            self.message = (f"warmed {report.warmed} series with {report.calls} calls ({report.already_warm} already "
                            f"warm, {report.below_cost} not worth their calls, {report.over_budget} past the budget)")  # fmt: skip
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
        self.learning_view.value = html_table(learning_rows(self.learned),
                                              empty="nothing settled yet: outcomes count once the next session closed")  # fmt: skip
        rows = prediction_rows(self.predictions, self.threshold)
        self.table_view.value = html_table(rows, empty=(
            "no predictions: nothing asked recently reads up to now (a request with a fixed past end is final)"
            if self.logged else "no predictions yet: the usage log is empty"
        ))  # fmt: skip
