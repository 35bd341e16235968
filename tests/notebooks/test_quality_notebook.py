"""notebooks/quality.ipynb executed headless (nbclient) with a temporary cache; outputs checked."""

from __future__ import annotations

import json

import pytest

from tests.support import akshare_files as af
from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, committed_code_cells, execute

NOTEBOOK = NOTEBOOKS / "quality.ipynb"


def test_the_committed_notebook_has_no_outputs():
    code = committed_code_cells(NOTEBOOK)
    assert 'PROVIDER = "simulated"' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute(NOTEBOOK, tmp_path_factory.mktemp("cache"), timeout=180)


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
