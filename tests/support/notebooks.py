"""Running the project's notebooks headless (nbclient), shared by every notebook test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Settings a developer's shell may carry that would change what a notebook does.
_AMBIENT = ("QUANTDB_LAB_PROVIDER", "QUANTDB_LAB_LLM_URL", "QUANTDB_LAB_STORE")


def committed_code_cells(path: Path) -> list:
    """The notebook's code cells, after checking it is committed clean: no outputs, parameters cell first."""
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), f"{path.name} has outputs"
    assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: the first code cell holds the parameters"
    return code


@contextmanager
def _environment(cache_dir: Path):
    saved = {name: os.environ.get(name) for name in ("QUANTDB_LAB_CACHE_DIR", *_AMBIENT)}
    os.environ["QUANTDB_LAB_CACHE_DIR"] = str(cache_dir)
    for name in _AMBIENT:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(path: Path, cache_dir: Path, *, timeout: int = 180,
            edit_parameters: Callable[[str], str] | None = None):  # fmt: skip
    """Execute the notebook in a fresh python3 kernel on an empty cache; returns the executed notebook."""
    nb = nbformat.read(path, as_version=4)
    if edit_parameters is not None:
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        first.source = edit_parameters(first.source)
    with _environment(cache_dir):
        NotebookClient(nb, kernel_name="python3", timeout=timeout, store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()  # fmt: skip
    return nb


def outputs(nb) -> Iterable:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
