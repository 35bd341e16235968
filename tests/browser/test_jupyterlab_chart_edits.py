"""In JupyterLab (where each new FigureWidget evaluates plotly's 5 MB script again) a widget's chart is edited in
place once drawn: the next answer must reach the chart already on the page, title and data, never leave it stale."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.jupyterlab_server import require_extension, running

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_extension()

LOAD = 240  # s: the shared machine can be slow
OUTPUT = "#jp-main-dock-panel .jp-OutputArea-output"
NOTEBOOK = "ask_in_lab.ipynb"
FIRST, SECOND = "How did 600519 do in 2024?", "How did 000001.SZ do in 2024?"
SOURCE = (
    "import warnings\n"
    "from quantdb_lab import Lab\n"
    "from quantdb_lab.errors import SyntheticDataWarning\n"
    "from quantdb_lab.ui.widgets import AskWidget\n"
    "warnings.filterwarnings('ignore', category=SyntheticDataWarning)\n"
    "lab = Lab(provider='simulated')\n"
    f"widget = AskWidget(lab, question={FIRST!r})\n"
    "widget.submit()\n"
    "widget\n"
)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "ask", "metadata": {}, "outputs": [],
                           "source": SOURCE}],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    (root / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
    home, cache = tmp_path_factory.mktemp("jupyter-home"), tmp_path_factory.mktemp("lab-cache")
    with running(root, home, cache, ARTIFACTS / "jupyterlab-edits.log") as server:
        yield server


def _plan(page) -> str:
    text = page.locator(OUTPUT).first.inner_text()
    found = re.search(r"Plan \([^)]*\): (.+)", text)
    return found.group(1).strip() if found else ""


def _chart(page) -> dict:
    """The one chart shown: its title, its first trace's name, and whether it carries ``mark`` (set on the DOM
    node of the chart as first drawn, so a chart edited in place still has it and a replacement does not)."""
    return page.locator(f"{OUTPUT} .js-plotly-plot").evaluate_all(
        """els => els.map(d => ({title: (d.layout && d.layout.title && (d.layout.title.text ?? d.layout.title)) || '',
                                 name: ((d.data || [])[0] || {}).name || '', points: ((d.data || [])[0] || {}).x?.length || 0,
                                 marked: d.qdbMark === 1}))"""
    )


def test_the_next_answer_edits_the_chart_drawn_in_place(jupyterlab, new_page):
    page, log = new_page()
    page.goto(jupyterlab.url, wait_until="load", timeout=LOAD * 1000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=LOAD * 1000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('docmanager:open', {{path: {NOTEBOOK!r}}}); }}")
    page.wait_for_function("() => { const w = window.jupyterapp.shell.currentWidget;"
                           " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel; }",
                           timeout=LOAD * 1000)  # fmt: skip
    page.evaluate("async () => { const w = window.jupyterapp.shell.currentWidget; await w.sessionContext.ready;"
                  " await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # fmt: skip
    page.locator(f"{OUTPUT} .js-plotly-plot").first.wait_for(state="visible", timeout=LOAD * 1000)
    page.wait_for_function("sel => [...document.querySelectorAll(sel + ' .js-plotly-plot')].some(d => d.layout"
                           " && d.layout.title)", arg=OUTPUT, timeout=LOAD * 1000)  # fmt: skip
    first_plan = _plan(page)
    [first] = _chart(page)
    assert first["title"] == first_plan and "600519" in first_plan and first["points"] > 100
    page.locator(f"{OUTPUT} .js-plotly-plot").first.evaluate("d => { d.qdbMark = 1; }")

    page.locator(f"{OUTPUT} .widget-text input").first.fill(SECOND)
    page.locator(f"{OUTPUT} button").filter(has_text=re.compile("^Ask$")).first.click()
    page.wait_for_function(
        "([sel, old]) => { const m = document.querySelector(sel).innerText.match(/Plan \\([^)]*\\): (.+)/);"
        " return m && m[1].trim() !== old; }", arg=[OUTPUT, first_plan], timeout=LOAD * 1000,
    )  # fmt: skip
    second_plan = _plan(page)
    assert "000001" in second_plan
    page.wait_for_function(
        "([sel, plan]) => [...document.querySelectorAll(sel + ' .js-plotly-plot')].some(d => d.layout && d.layout.title"
        " && (d.layout.title.text ?? d.layout.title) === plan)", arg=[OUTPUT, second_plan], timeout=60_000,
    )  # fmt: skip
    charts = _chart(page)
    assert len(charts) == 1, f"one chart expected, the page shows {charts}"
    [second] = charts
    assert second["marked"], "the chart was replaced, not edited in place"
    assert second["title"] == second_plan and second["name"] != first["name"] and second["points"] > 100
    ours = [e for e in log.errors if "anywidget" in e.lower() or "plotly" in e.lower() or "quantdb" in e.lower()]
    assert ours == [], ours
