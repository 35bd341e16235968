"""notebooks/portfolio.ipynb executed headless (nbclient) on the simulated market, outputs checked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from quantdb_lab.providers.simulated import SimulatedMarket

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "portfolio.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    assert 'PROVIDER = "simulated"' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    env = pytest.MonkeyPatch()
    env.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    env.delenv("QUANTDB_LAB_PROVIDER", raising=False)  # the notebook's own parameter decides
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=True,
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        env.undo()
    return nb


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_the_notebook_runs_end_to_end_on_the_simulated_market(executed):
    summary = json.loads(_stdout(executed.cells[-1]).strip().splitlines()[-1])
    symbols = ["600519.SH", "000001.SZ", "300750.SZ", "601318.SH", "000858.SZ"]
    # Independent truth: the simulated market itself, at today's clock like the notebook's Lab.
    market = SimulatedMarket(seed=7)
    expected = {s: market.bars(s, date(2024, 1, 1), date(2024, 12, 31)).height for s in symbols}
    assert summary["provider"] == "simulated"
    assert summary["symbols"] == symbols and summary["failed"] == []
    assert summary["rows"] == expected and summary["frame_rows"] == sum(expected.values())
    assert summary["weights"] == {"600519.SH": 0.3, "000001.SZ": 0.2, "300750.SZ": 0.2, "601318.SH": 0.15, "000858.SZ": 0.15}
    assert summary["magic_counts"] == {"from_cache": 5, "fetched": 0, "failed": 0}
    assert summary["widget_state"] == "done" and summary["widget_counts"].startswith("5/5: 5 cached")
    assert summary["misses"] == 5  # only the first fetch went upstream


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
