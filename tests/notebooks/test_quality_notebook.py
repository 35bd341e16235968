"""notebooks/quality.ipynb executed headless (nbclient) with a temporary cache; outputs checked."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support import akshare_files as af

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quality.ipynb"
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
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=180, store_widget_state=True,
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()  # fmt: skip
    finally:
        env.undo()
    return nb


def test_the_notebook_finds_the_injected_faults(executed):
    last = executed.cells[-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream" and o.name == "stdout")
    summary = json.loads(text.strip().splitlines()[-1])
    assert summary["provider"] == "simulated" and summary["rows"] > 1000
    assert summary["injected"] >= 12 and summary["found"] >= summary["injected"] - 1
    assert summary["widget_symbol"] in {"600519.SH", "000001.SZ", "300750.SZ"}
    if af.available():
        assert {"volume_unit", "foreign_row"} <= set(summary["real_checks"])
    else:
        assert summary["real_checks"] is None
    views = [o for cell in executed.cells for o in getattr(cell, "outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert views  # the widget rendered
