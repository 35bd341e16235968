"""notebooks/multimodal.ipynb executed headless on the simulated market."""

from __future__ import annotations

from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, assert_clean_page, committed_code_cells, execute

NOTEBOOK = NOTEBOOKS / "multimodal.ipynb"


def test_committed_without_outputs_and_parameters_first():
    code = committed_code_cells(NOTEBOOK)
    assert 'PROVIDER = None' in code[0].source


def test_executes_headless(tmp_path):
    nb = execute(NOTEBOOK, tmp_path / "cache", timeout=120)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert len([o for o in outputs if WIDGET_VIEW in o.get("data", {})]) == 2
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "<b>sources:</b>" in html and "<b>last row:</b> 2024-06-14" in html
    assert_clean_page(nb, synthetic=True)
    assert list((tmp_path / "cache").rglob("*.parquet"))
