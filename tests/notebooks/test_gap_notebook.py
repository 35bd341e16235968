"""notebooks/gap_synthesis.ipynb executed headless: it runs, shows the widgets, and its real-data section runs
when ../shared/data is present (and is skipped cleanly when it is not)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = NOTEBOOKS / "gap_synthesis.ipynb"
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_committed_without_outputs_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", []) and "PROVIDER" in code[0].source


def test_executes_headless(tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=180, store_widget_state=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    widgets = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    if DATA.is_dir():
        assert len(widgets) == 3 and "filled" in text
    else:
        assert len(widgets) == 2 and "skipped" in text
    assert list((tmp_path / "cache").rglob("*.parquet"))  # the notebook used the temporary cache
