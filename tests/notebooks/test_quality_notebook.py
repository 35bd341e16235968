"""notebooks/quality.ipynb executed headless (nbclient) with a temporary cache; outputs checked."""

from __future__ import annotations

import pytest

from tests.support import akshare_files as af
from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, assert_clean_page, committed_code_cells, execute, probe, with_probe

NOTEBOOK = NOTEBOOKS / "quality.ipynb"


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
    "rows": clean.height,
    "injected": found.height,
    "found": int(found["found"].sum()),
    "score": round(report.score.overall, 6),
    "passed": report.passed,
    "widget_symbol": widget.symbol,
    "real_checks": sorted(set(real_report.issues["check"])) if real_report is not None else None,
}))
"""


def test_the_notebook_finds_the_injected_faults(executed):
    summary = probe(executed)
    assert summary["provider"] == "simulated" and summary["rows"] > 1000
    assert summary["injected"] >= 12 and summary["found"] >= summary["injected"] - 1
    assert summary["widget_symbol"] in {"600519.SH", "000001.SZ", "300750.SZ"}
    if af.available():
        assert {"volume_unit", "foreign_row"} <= set(summary["real_checks"])
    else:
        assert summary["real_checks"] is None
    views = [o for cell in executed.cells for o in getattr(cell, "outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert views  # the widget rendered


def test_the_page_shows_no_debugging_output_and_says_the_data_is_synthetic(executed):
    assert_clean_page(executed, synthetic=True)
