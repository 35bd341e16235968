"""notebooks/gap_synthesis.ipynb executed headless: it runs, shows the widgets, and its real-data section runs
when ../shared/data is present (and is skipped cleanly when it is not)."""

from __future__ import annotations

from pathlib import Path

from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, assert_clean_page, committed_code_cells, execute

NOTEBOOK = NOTEBOOKS / "gap_synthesis.ipynb"
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_committed_without_outputs_and_parameters_first():
    code = committed_code_cells(NOTEBOOK)
    assert "PROVIDER" in code[0].source


def test_executes_headless(tmp_path):
    nb = execute(NOTEBOOK, tmp_path / "cache", timeout=180)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    widgets = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    if DATA.is_dir():
        assert len(widgets) == 3 and "Real series 002668, reference CSI 300: filled" in html
    else:
        assert len(widgets) == 2 and "not on this machine" in html
    assert list((tmp_path / "cache").rglob("*.parquet"))  # the notebook used the temporary cache
    # the scores table: the default reference, with the security master cached, is the index and the sector
    assert "reference: 000300.SH + sector " in html
    assert_clean_page(nb, synthetic=True)
