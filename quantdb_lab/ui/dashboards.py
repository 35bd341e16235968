"""The dashboards: which notebook each one is, its title, and the interaction the browser tests perform on it.

A dashboard is a notebook under ``notebooks/`` (layout and calls only, parameters in the first cell) that runs
unchanged in JupyterLab and under Voila. ``present()`` lists those whose notebook exists, so the landing page,
``quantdb-lab dashboard NAME`` and the tests pick up a dashboard as soon as its notebook lands.

Notebooks are found in ``$QUANTDB_LAB_NOTEBOOKS``, else the ``notebooks/`` folder beside the package (a source
checkout or an editable install), else ``quantdb_lab/ui/notebooks`` inside the installed package (a wheel
carries them there), else ``<prefix>/share/quantdb_lab/notebooks`` (where older wheels put them).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_ENV = "QUANTDB_LAB_NOTEBOOKS"
INDEX = "index.ipynb"
# Notebooks that walk through a workflow rather than serve as a dashboard: executed headless by their own
# tests, not listed on the landing page (live.ipynb replays a session and stops it in its last cell).
WORKFLOWS = frozenset({"live.ipynb"})


@dataclass(frozen=True, slots=True)
class Interaction:
    """What a person does on the dashboard, told by visible labels so it survives layout changes.

    ``fill``: (label or placeholder pattern, text) typed into that text box first; ``select``: label pattern of a
    list or dropdown whose first option is then chosen; ``click``: pattern of the
    button's text; ``before``: the name of a test-side step run before the click (e.g. a fetch made by another
    process for the cache monitor to show). The test then waits for the shown text to change and, if ``expect``
    is given, to match that pattern.
    """

    click: str
    fill: tuple[str, str] | None = None
    select: str | None = None
    before: str | None = None
    expect: str | None = None


@dataclass(frozen=True, slots=True)
class Dashboard:
    name: str
    notebook: str
    title: str
    description: str
    interaction: Interaction

    def path(self, directory: Path | None = None) -> Path:
        return (directory or notebooks_dir()) / self.notebook


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "portfolio", "portfolio.ipynb", "Portfolio fetch",
        "Paste symbols and weights, fetch them through the cache with live progress, chart the result.",
        Interaction(click="^Fetch$", fill=("Symbols", "600519 0.5\n000001.SZ 0.5")),
    ),
    Dashboard(
        "quality", "quality.ipynb", "Quality report",
        "Scored data-quality issues per series; accept or reject each one.",
        Interaction(select="Issues", click="^(Confirm|Accept)"),
    ),
    Dashboard(
        "gaps", "gap_synthesis.ipynb", "Gap synthesis",
        "Missing sessions and how they would be filled; fill a gap and see the series before and after.",
        Interaction(click="^Fill"),
    ),
    Dashboard(
        "ask", "ask.ipynb", "Ask",
        "Ask a question about the cached data in plain words.",
        Interaction(click="^Ask$", fill=("Question|Ask", "How did 600519 do in 2024?")),
    ),
    Dashboard(
        "cache_monitor", "cache_monitor.ipynb", "Cache monitor",
        "Size on disk by dataset, hit rate, upstream calls, rate limiter and breaker, recent fetches, mode.",
        Interaction(click="^Refresh$", before="fetch_elsewhere", expect=r"series cached:\s*[1-9]"),
    ),
    Dashboard(
        "multimodal", "multimodal.ipynb", "Multi-modal view",
        "Price with news sentiment, macro series and commodities, joined without look-ahead; sources by context.",
        Interaction(click="^Show$", fill=("Symbol or sector", "Energy"), expect="Energy"),
    ),
)  # fmt: skip


def notebooks_dir() -> Path:
    """Where the dashboard notebooks are (see the module docstring)."""
    configured = os.environ.get(NOTEBOOKS_ENV)
    if configured:
        return Path(configured).expanduser()
    beside = Path(__file__).resolve().parents[2] / "notebooks"
    if (beside / INDEX).is_file():
        return beside
    packaged = Path(__file__).resolve().parent / "notebooks"
    if (packaged / INDEX).is_file():
        return packaged
    return Path(sys.prefix) / "share" / "quantdb_lab" / "notebooks"


def present(directory: Path | None = None) -> list[Dashboard]:
    """The dashboards whose notebook exists, in registry order."""
    where = directory or notebooks_dir()
    return [d for d in DASHBOARDS if (where / d.notebook).is_file()]


def get(name: str) -> Dashboard:
    """The dashboard called ``name`` (``cache_monitor`` or ``cache-monitor``); KeyError lists the names."""
    wanted = name.replace("-", "_").removesuffix(".ipynb")
    for dashboard in DASHBOARDS:
        if wanted in (dashboard.name, dashboard.notebook.removesuffix(".ipynb")):
            return dashboard
    raise KeyError(f"no dashboard {name!r}; choose one of {', '.join(d.name for d in DASHBOARDS)}")
