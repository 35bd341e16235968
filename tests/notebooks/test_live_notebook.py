"""notebooks/live.ipynb executed headless (nbclient) on a replayed simulated session, outputs checked."""

from __future__ import annotations

import json

import pytest

from tests.support.notebooks import NOTEBOOKS, WIDGET_VIEW, committed_code_cells, execute, stdout

NOTEBOOK = NOTEBOOKS / "live.ipynb"


def test_the_committed_notebook_has_no_outputs():
    code = committed_code_cells(NOTEBOOK)
    assert "SPEED = 120.0" in code[0].source and "WAIT = False" in code[0].source and 'UNTIL = "15:00"' in code[0].source


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    def fast_replay(source: str) -> str:
        return (source.replace("SPEED = 120.0", 'SPEED = float("inf")')
                .replace("WAIT = False", "WAIT = True").replace('UNTIL = "15:00"', 'UNTIL = "10:30"'))

    return execute(NOTEBOOK, tmp_path_factory.mktemp("cache"), timeout=120, edit_parameters=fast_replay)



def test_the_replay_runs_to_the_close_and_the_widget_saw_it(executed):
    summary_cell = next(c for c in executed.cells if c.cell_type == "code" and "json.dumps" in c.source)
    summary = json.loads(stdout(summary_cell).strip().splitlines()[-1])
    assert summary["state"] == "finished" and summary["polls"] == 60  # 09:31 .. 10:30, one a minute
    assert summary["events"]["LimitHit"] >= 3 and summary["events"]["Halt"] == 1
    assert "Halt 604262.SH" in summary["alerts"]
    assert summary["rows"] == 6 and summary["updates"] == summary["events"]["PriceUpdate"]
    assert summary["recent"]


def test_the_widget_and_chart_are_in_the_outputs(executed):
    views = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs
             if WIDGET_VIEW in o.get("data", {})]
    assert views
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"HTMLModel", "DropdownModel", "VBoxModel"} <= models
    assert models & {"FigureModel", "AnyModel"}
