"""Running the project's notebooks headless (nbclient), shared by every notebook test."""

from __future__ import annotations

import os
import re
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
def _environment(cache_dir: Path, keep: tuple[str, ...] = ()):
    saved = {name: os.environ.get(name) for name in ("QUANTDB_LAB_CACHE_DIR", *_AMBIENT)}
    os.environ["QUANTDB_LAB_CACHE_DIR"] = str(cache_dir)
    for name in _AMBIENT:
        if name not in keep:
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
            edit_parameters: Callable[[str], str] | None = None, edit: Callable | None = None,
            keep_provider: bool = False):  # fmt: skip
    """Execute the notebook in a fresh python3 kernel on an empty cache; returns the executed notebook.
    ``edit(nb)`` changes the notebook first (e.g. ``with_probe``: a last cell of the test's own);
    ``keep_provider`` leaves ``$QUANTDB_LAB_PROVIDER`` as the test set it."""
    nb = nbformat.read(path, as_version=4)
    if edit is not None:
        edit(nb)
    if edit_parameters is not None:
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        first.source = edit_parameters(first.source)
    with _environment(cache_dir, ("QUANTDB_LAB_PROVIDER",) if keep_provider else ()):
        NotebookClient(nb, kernel_name="python3", timeout=timeout, store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()  # fmt: skip
    return nb


def outputs(nb) -> Iterable:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


PROBE_TAG = "probe"


def with_probe(code: str) -> Callable:
    """An ``edit`` for ``execute``: ``code`` appended as a last cell (the test's own, never the page's) whose
    stdout the test reads; ``probe(nb)`` returns what it printed, parsed as JSON."""

    def edit(nb) -> None:
        cell = nbformat.v4.new_code_cell(code)
        cell.metadata["tags"] = [PROBE_TAG]
        nb.cells.append(cell)

    return edit


def probe(nb) -> dict:
    import json

    cell = nb.cells[-1]
    assert PROBE_TAG in cell.metadata.get("tags", []), "the notebook was executed without a probe"
    return json.loads(stdout(cell).strip().splitlines()[-1])


# What a dashboard never shows: a debugging dump, a bare repr, a path, a raw polars table.
_BARE = re.compile(r"^\s*('[^']*'|\"[^\"]*\"|\[\]|\{\}|None|True|False|-?\d+(\.\d+)?)\s*$")
# A relative path up, an absolute path of two or more parts (any machine's folders), the shared data or a cache dir.
_PATHS = re.compile(r"(\.\./|(?<![\w.:/])/[\w.-]+/[\w.-]+|shared/data|cache_dir=)")
_JSON_LINE = re.compile(r"^\s*[\[{].*[\]}]\s*$", re.MULTILINE)


def page_outputs(nb) -> list:
    """The outputs a reader sees: every code cell's but the test's probe."""
    return [o for cell in nb.cells if cell.cell_type == "code" and PROBE_TAG not in cell.metadata.get("tags", [])
            for o in cell.outputs]  # fmt: skip


def assert_clean_page(nb, *, synthetic: bool = True) -> None:
    """No stderr, no error, no stream output at all, no bare repr (``'done'``, ``[]``), no JSON dump, no path, no
    polars repr (its ``shape:`` line and quoted strings); a synthetic-data banner when the data is synthetic."""
    shown = page_outputs(nb)
    problems = []
    for output in shown:
        if output.output_type == "error":
            problems.append(f"error: {output.ename}")
        elif output.output_type == "stream":
            problems.append(f"{output.name}: {output.text[:120]!r}")
        else:
            data = output.get("data", {})
            plain, markup = data.get("text/plain", ""), data.get("text/html", "")
            if "text/html" not in data and "application/vnd.jupyter.widget-view+json" not in data and _BARE.match(plain):
                problems.append(f"bare repr {plain!r}")
            for text in (markup, plain if "text/html" not in data else ""):
                if _PATHS.search(text):
                    problems.append(f"a path: {_PATHS.search(text).group(0)!r} in {text[:120]!r}")
                if _JSON_LINE.search(text) and "<" not in text:
                    problems.append(f"a JSON dump: {text[:120]!r}")
            if "shape: (" in markup or "<td>&quot;" in markup:
                problems.append("a raw polars table")
    assert problems == [], "the page shows: " + "; ".join(problems)
    banners = ["qdb-banner-synthetic" in o.get("data", {}).get("text/html", "") for o in shown]
    assert any(banners) == synthetic, "a synthetic-data banner" + (" is missing" if synthetic else " on real data")
