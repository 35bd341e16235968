"""notebooks/ask.ipynb executed headless (nbclient) on the simulated market, outputs checked."""

from __future__ import annotations

import json

import pytest

from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, committed_code_cells, execute

NOTEBOOK = NOTEBOOKS / "ask.ipynb"


def test_the_committed_notebook_has_no_outputs():
    code = committed_code_cells(NOTEBOOK)
    assert 'PROVIDER = "simulated"' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute(NOTEBOOK, tmp_path_factory.mktemp("cache"), timeout=180)


def test_the_notebook_answers_the_seed_questions_from_the_cache(executed):
    stdout = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["provider"] == "simulated"
    assert summary["ok"] == [True] * 5
    assert summary["plans"] == ["rank", "compare", "spikes", "correlation", "rank"]
    assert summary["warm_upstream_calls"] == [0] * 5 and summary["warm_hit_rates"] == [1.0] * 5
    # the confirming pass only asks again for what the first answers left open: never more than they cost
    assert all(c <= f for c, f in zip(summary["confirming_calls"], summary["first_calls"]))
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
