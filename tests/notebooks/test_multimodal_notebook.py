"""notebooks/multimodal.ipynb executed headless on the simulated market."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = NOTEBOOKS / "multimodal.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_committed_without_outputs_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", []) and 'PROVIDER = "simulated"' in code[0].source


def test_executes_headless(tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert len([o for o in outputs if WIDGET_VIEW in o.get("data", {})]) == 2
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "sources:" in text and "last row 2024-06-14" in text
    assert list((tmp_path / "cache").rglob("*.parquet"))
