"""WarmingPanel without a browser: its buttons' methods and the HTML they produce."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

import traitlets

from quantdb_lab.ui.widgets.warming import WarmingPanel, prediction_rows, state_html, value_rows
from tests.support.sim import MARKET, make_lab

WATCH = [s for s in MARKET.symbols("stock") if MARKET.listing_date(s).year < 2020][:3]


def test_panel_shows_predictions_state_and_value(tmp_path):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    for _ in range(2):
        lab.bars(WATCH, start="2025-01-01")
        clock.advance(24 * 3600)
    panel = WarmingPanel(lab)
    assert [p["symbol"] for p in panel.predictions][:3] and "no predictions" not in panel.table_view.value
    assert "not running" in panel.state_view.value
    panel.warm_now()
    assert panel.message.startswith("warmed 3 series with 3 calls")  # qfq: one unadjusted series each
    assert panel.summary["warmed_entries"] == 3 and "3 (100%)" in panel.value_view.value  # none used yet
    clock.advance(4 * 3600)
    lab.bars(WATCH, start="2025-01-01")
    panel.refresh()
    assert panel.summary["warm_hit_rate"] == 1.0 and "0 (0%)" in panel.value_view.value
    panel.toggle()
    assert panel.warmer.running and panel.toggle_button.description == "Stop background"
    panel.toggle()
    assert not panel.warmer.running
    with pytest.raises(traitlets.TraitError):
        panel.threshold = 1.5


def test_pure_renderers():
    rows = prediction_rows([{"symbol": "A", "adjust": "", "end": "2025-06-11", "confidence": 0.65, "reason": "r",
                             "ready_by": None}], 0.7)  # fmt: skip
    assert rows[0]["warm?"] == "no" and rows[0]["adjust"] == "raw"
    assert value_rows({"warmed_entries": 4, "warmed_used": 3, "warm_hit_rate": 0.75})[2]["value"] == "75%"
    assert "running" in state_html({"running": True, "phase": "warming", "done": 1, "total": 4, "current": "A"})


def test_panel_shows_value_cost_budget_and_what_was_learned_per_rule(tmp_path):
    lab, _, clock = make_lab(tmp_path, now="2025-06-09 16:00")
    for _ in range(2):
        lab.bars(WATCH, start="2025-01-01")
        clock.advance(24 * 3600)
    panel = WarmingPanel(lab)
    assert "nothing settled yet" in panel.learning_view.value
    first = panel.predictions[0]
    assert first["kind"] == "tracked" and first["calls"] == 1 and first["chosen"]
    assert first["expected_value"] == first["probability"] * 1 and "value / cost" in panel.table_view.value
    panel.warm_now()
    assert "3 spent of 200" in panel.value_view.value
    clock.advance(4 * 3600)
    lab.bars(WATCH, start="2025-01-01")  # every warmed series used the next morning
    clock.advance(20 * 3600)  # past the next close: the pass is settled at the next warming
    panel.warm_now()
    assert panel.learned[0]["kind"] == "tracked" and panel.learned[0]["hit share"] == 1.0
    assert "tracked" in panel.learning_view.value and "100%" in panel.learning_view.value
    # One pass, all used: Beta(4c, 4(1-c)) + 1 hit -> (4c + 1) / 5 for the rule's confidence c.
    c = panel.learned[0]["prior"]
    assert panel.learned[0]["learned"] == pytest.approx((4 * c + 1) / 5)
