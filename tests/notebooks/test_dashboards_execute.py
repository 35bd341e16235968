"""The dashboard registry against notebooks/, and the cache monitor and landing page executed headless.

Every other dashboard's notebook is executed by its own test (tests/notebooks/test_<name>_notebook.py); here
each present one is only checked for the shape every dashboard shares.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from quantdb_lab.ui.dashboards import DASHBOARDS, INDEX, WORKFLOWS, get, notebooks_dir, present

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_notebooks_are_found_beside_the_package_in_a_checkout():
    assert notebooks_dir() == NOTEBOOKS


def test_every_notebook_in_the_folder_is_a_registered_dashboard_or_the_index():
    registered = {d.notebook for d in DASHBOARDS} | {INDEX} | WORKFLOWS
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if p.name not in registered) == []
    assert {d.name for d in present()} >= {"cache_monitor"}
    assert get("cache-monitor").notebook == "cache_monitor.ipynb" and get("gap_synthesis").name == "gaps"
    with pytest.raises(KeyError, match="choose one of"):
        get("nope")


@pytest.mark.parametrize("notebook", [INDEX, *(d.notebook for d in present())])
def test_committed_without_outputs(notebook):
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), f"{notebook} has outputs"


@pytest.mark.parametrize("dashboard", present(), ids=lambda d: d.name)
def test_dashboard_parameters_are_in_the_first_cell(dashboard):
    nb = nbformat.read(dashboard.path(NOTEBOOKS), as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []) and "PROVIDER" in first.source


def _execute(notebook: str, cache: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(cache))
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)  # the dashboard default: simulated
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
    return nb


def _outputs(nb):
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def test_cache_monitor_executes_on_the_simulated_market_and_shows_the_cache(tmp_path, monkeypatch):
    from quantdb_lab.lab import Lab

    lab = Lab(tmp_path, provider="simulated")
    lab.bars(["600519", "000001.SZ"], start="2024-01-02", end="2024-02-29")  # another process's fetch
    lab.bars("600519", start=lab.clock.now().date() - timedelta(days=20))  # read up to now: tracked, predicted
    lab.usage()  # flushes the usage log, as that process would within seconds
    nb = _execute("cache_monitor.ipynb", tmp_path, monkeypatch)
    outputs = _outputs(nb)
    assert [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"] == []
    assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs)
    state = json.dumps(nb.metadata["widgets"])
    assert "series cached:</b> <span>2</span>" in state  # one stored series per symbol: adjustments are derived
    assert "provider:</b> <span>simulated</span>" in state and "mode:</b> <span>research</span>" in state
    assert "FigureWidget" in state or "plotly" in state.lower()
    # the warming panel: the open-ended read of 600519 is predicted (asked once: 0.67, under the 0.7 threshold)
    assert "Predicted next requests" in state and "warmer:</b> not running" in state
    assert "<td>600519.SH</td>" in state and "0.67" in state
    from tests.support.notebooks import assert_clean_page

    assert_clean_page(nb, synthetic=True)


def test_index_lists_the_dashboards_present(monkeypatch, tmp_path):
    nb = _execute(INDEX, tmp_path, monkeypatch)
    html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(nb))
    for dashboard in present():
        assert f'href="{dashboard.notebook}"' in html and dashboard.title in html
    assert "ask.ipynb" in html or not (NOTEBOOKS / "ask.ipynb").exists()


def _lab_cell_only(nb: nbformat.NotebookNode) -> None:
    """Keep the code cells up to the one that builds ``lab``, then print which provider it was given."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    last = next(i for i, cell in enumerate(code) if "lab = " in cell.source)
    probe = nbformat.v4.new_code_cell("print('PROVIDER-IS', type(lab.provider).__name__)")
    nb.cells = [*code[: last + 1], probe]


@pytest.mark.parametrize("dashboard", present(), ids=lambda d: d.name)
def test_dashboard_uses_the_configured_provider_not_the_simulated_market(dashboard, tmp_path, monkeypatch):
    # docs/dashboards.md promises QUANTDB_LAB_PROVIDER (and `quantdb-lab --provider`) reaches every dashboard:
    # a real Lab must never be handed simulated rows because a notebook hard-codes its provider.
    from tests.support.notebooks import execute

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    monkeypatch.setenv("QUANTDB_LAB_PROVIDER", f"replay:{recordings}")
    nb = nbformat.read(dashboard.path(NOTEBOOKS), as_version=4)
    _lab_cell_only(nb)
    path = tmp_path / dashboard.notebook
    nbformat.write(nb, path)
    executed = execute(path, tmp_path / "cache", keep_provider=True)
    printed = "".join(o.get("text", "") for cell in executed.cells for o in cell.outputs)
    assert "PROVIDER-IS ReplayProvider" in printed, printed[-500:]
