"""notebooks/ask.ipynb executed headless (nbclient) on the simulated market, outputs checked."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "ask.ipynb"
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
    env.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    env.delenv("QUANTDB_LAB_LLM_URL", raising=False)
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=180, store_widget_state=True,
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        env.undo()
    return nb


def test_the_notebook_answers_the_seed_questions_from_the_cache(executed):
    stdout = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["provider"] == "simulated"
    assert summary["ok"] == [True] * 5
    assert summary["plans"] == ["rank", "compare", "spikes", "correlation", "rank"]
    assert summary["warm_upstream_calls"] == [0] * 5 and summary["warm_hit_rates"] == [1.0] * 5
    assert summary["magic_rows"] == 10 and summary["declined"] is False and summary["declined_problems"]
    assert summary["widget_state"] == "answered" and summary["widget_traces"] == 2


def test_the_answer_and_charts_are_rendered(executed):
    html = [o["data"]["text/html"] for c in executed.cells if c.cell_type == "code" for o in c.outputs
            if "text/html" in o.get("data", {})]  # fmt: skip
    assert any("top 10 of the technology sector" in h for h in html)
    assert any("Not answered" in h and "fintech" in h for h in html)
    figures = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.plotly.v1+json" in o.get("data", {}) or WIDGET_VIEW in o.get("data", {})]  # fmt: skip
    assert len(figures) >= 2  # the magic's figure and the widget
