"""notebooks/portfolio.ipynb executed headless (nbclient) on the simulated market, outputs checked."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ
from quantdb_lab.providers.simulated import SimulatedMarket
from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, assert_clean_page, committed_code_cells, execute, probe, with_probe

NOTEBOOK = NOTEBOOKS / "portfolio.ipynb"


def test_the_committed_notebook_has_no_outputs():
    code = committed_code_cells(NOTEBOOK)
    assert 'PROVIDER = None' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute(NOTEBOOK, tmp_path_factory.mktemp("cache"), timeout=120, edit=with_probe(PROBE))


PROBE = """
import json
print(json.dumps({
    "provider": lab.provider.name,
    "symbols": list(result.symbols),
    "rows": dict(zip(result.status["symbol"], result.status["rows"])),
    "failed": result.failed,
    "frame_rows": result.frame.height,
    "weights": result.weights,
    "magic_counts": from_magic.counts,
    "widget_state": widget.state,
    "widget_counts": widget.counts.value,
    "hits": stats["hits"],
    "misses": stats["misses"],
}))
"""



def test_the_notebook_runs_end_to_end_on_the_simulated_market(executed):
    summary = probe(executed)
    symbols = ["600519.SH", "000001.SZ", "300750.SZ", "601318.SH", "000858.SZ"]
    # Independent truth: the simulated market itself, at today's clock like the notebook's Lab.
    market = SimulatedMarket(seed=7)
    expected = {s: market.bars(s, date(2024, 1, 1), date(2024, 12, 31)).height for s in symbols}
    assert summary["provider"] == "simulated"
    assert summary["symbols"] == symbols and summary["failed"] == []
    assert summary["rows"] == expected and summary["frame_rows"] == sum(expected.values())
    assert summary["weights"] == {"600519.SH": 0.3, "000001.SZ": 0.2, "300750.SZ": 0.2, "601318.SH": 0.15, "000858.SZ": 0.15}
    # a stock whose bars stop before the latest session (suspended now) had its short answer kept as partial:
    # the next read asks once more and that answer confirms it; every other symbol comes from the cache
    now = datetime.now(EXCHANGE_TZ)
    state = market.calendar.state(now)
    latest = state.latest if state.latest_final else market.calendar.previous_session(state.latest)
    cut = sum(1 for s in symbols if market.bars(s, now=now)["date"].max() < latest)
    assert summary["magic_counts"] == {"from_cache": 5 - cut, "fetched": cut, "failed": 0}
    assert summary["widget_state"] == "done" and summary["widget_counts"].startswith("5/5: 5 cached")
    assert summary["misses"] == 5 + cut  # the first fetch, and the one confirmation of a suspended stock


def test_widgets_and_charts_are_in_the_outputs(executed):
    views = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs
             if WIDGET_VIEW in o.get("data", {})]
    assert len(views) >= 2  # the performance FigureWidget and the fetch widget
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"IntProgressModel", "TextareaModel", "ButtonModel", "DatePickerModel"} <= models
    assert models & {"FigureModel", "AnyModel"}  # plotly's FigureWidget (an anywidget from plotly 6 on)
    html = [o["data"]["text/html"] for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs
            if "text/html" in o.get("data", {})]
    assert any("PortfolioResult" in h and "5 fetched" in h for h in html)


def test_the_page_shows_no_debugging_output_and_says_the_data_is_synthetic(executed):
    assert_clean_page(executed, synthetic=True)
