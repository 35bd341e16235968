"""notebooks/ask.ipynb executed headless (nbclient) on the simulated market, outputs checked."""

from __future__ import annotations

import pytest

from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, assert_clean_page, committed_code_cells, execute, probe, with_probe

NOTEBOOK = NOTEBOOKS / "ask.ipynb"


def test_the_committed_notebook_has_no_outputs():
    code = committed_code_cells(NOTEBOOK)
    assert 'PROVIDER = None' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute(NOTEBOOK, tmp_path_factory.mktemp("cache"), timeout=180, edit=with_probe(PROBE))


PROBE = """
import json
print(json.dumps({
    "provider": lab.provider.name,
    "ok": [a.ok for a in answers],
    "plans": [a.plan.intent if a.plan else None for a in answers],
    "confirming_calls": [a.upstream_calls for a in confirming],
    "first_calls": [a.upstream_calls for a in answers],
    "warm_upstream_calls": [a.upstream_calls for a in again],
    "warm_hit_rates": [a.cache_hit_rate for a in again],
    "magic_rows": first.data.height,
    "declined": declined.ok,
    "declined_problems": declined.problems,
    "widget_state": widget.state,
    "widget_traces": len(widget.chart.data),
}))
"""


def test_the_notebook_answers_the_seed_questions_from_the_cache(executed):
    summary = probe(executed)
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


def test_the_page_shows_no_debugging_output_and_says_the_data_is_synthetic(executed):
    assert_clean_page(executed, synthetic=True)
