"""Dashboards from any server root: a notebook outside the root is copied into ``quantdb_lab_dashboards/``.

JupyterLab opens (and Voila renders) only files under the server's root. The dashboards come with the package
(``quantdb_lab.ui.dashboards.notebooks_dir()``: inside the installed package, or the repository's
``notebooks/`` in a checkout), usually outside the root: a click on a dashboard's button copies its notebook
into ``<root>/quantdb_lab_dashboards/`` (once: an existing copy, perhaps edited, is kept; delete it for the
packaged version) and opens the copy. Under the root already (a server started in the repository), the
notebook is opened where it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from quantdb_lab.ui.dashboards import Dashboard, get, notebooks_dir

COPIES = "quantdb_lab_dashboards"


def relative(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (posix), or None when it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def location(dashboard: Dashboard, root: Path) -> str | None:
    """Where the panel opens ``dashboard`` from, relative to ``root``: the notebook itself when it is under the
    root, else its copy in ``quantdb_lab_dashboards/`` once made (None before)."""
    here = relative(dashboard.path(notebooks_dir()), root)
    if here is not None:
        return here
    copy = root / COPIES / dashboard.notebook
    return relative(copy, root) if copy.is_file() else None


def materialize(name: str, root: str | Path) -> str:
    """The path (relative to ``root``) to open dashboard ``name`` from, copying it under the root if needed.

    Raises KeyError for an unknown dashboard, FileNotFoundError when its notebook is not installed, OSError when
    the root is not writable.
    """
    root = Path(root)
    dashboard = get(name)
    source = dashboard.path(notebooks_dir())
    if not source.is_file():
        raise FileNotFoundError(f"the {dashboard.name} dashboard's notebook is not installed ({source})")
    here = relative(source, root)
    if here is not None:
        return here
    copy = root / COPIES / dashboard.notebook
    if not copy.is_file():
        copy.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=copy.parent, prefix=f".{dashboard.notebook}.", suffix=".tmp")
        os.close(handle)
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, copy)
        finally:
            Path(temporary).unlink(missing_ok=True)
    return copy.relative_to(root).as_posix()
