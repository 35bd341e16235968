"""The landing page of the dashboards: one link per dashboard whose notebook exists.

Links are relative to the index notebook, so they open the dashboard under Voila (``/voila/render/...``) and
the notebook in JupyterLab.
"""

from __future__ import annotations

import html
from pathlib import Path

from quantdb_lab.ui.dashboards import present


def landing_html(directory: Path | None = None) -> str:
    items = "".join(
        f'<li class="qdb-dashboard-link"><a href="{html.escape(d.notebook)}">{html.escape(d.title)}</a>'
        f" <span>({html.escape(d.name)})</span><br><small>{html.escape(d.description)}</small></li>"
        for d in present(directory)
    )
    return f'<ul class="qdb-dashboards">{items}</ul>' if items else "<p><i>no dashboard notebooks found</i></p>"
