"""The dashboards' Voila: Voila's app with one page handler of ours, started as ``python -m quantdb_lab.ui.voila_app``.

The page handler does two things Voila's does not:

- It gives each page its ``_xsrf`` cookie as it renders. Voila's ``beforeunload`` beacon sends that cookie's value
  with its kernel shutdown request; a page opened at its render address never got one (only jupyter-server's own
  templates set it), so the request was refused (403) and a page left properly kept its kernel until the culler
  came. Tornado sets the cookie the first time a handler reads its token, while the response's headers are unsent.
  (Voila's ``prelaunch_hook`` did this before; Voila refuses that hook with preheated kernels, and a preheated page
  is rendered before any request exists.)
- With preheated kernels (``voila_server``), it serves a page from the pool only when the notebook on disk is the
  one the pool pre-ran. Voila keeps the notebook as first read and would otherwise serve a notebook edited since
  (new parameters in its first cell) as it was: such a page is rendered afresh, as without preheating.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import tornado.web
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler


class DashboardPageHandler(TornadoVoilaHandler):
    @tornado.web.authenticated
    async def get(self, path: str | None = None) -> None:
        self.xsrf_token  # noqa: B018 - read for its side effect, the Set-Cookie
        await super().get(path)

    def should_use_rendered_notebook(self, notebook_data, pool_size, template_name, theme, request_args):  # noqa: ANN001, ANN201
        if not super().should_use_rendered_notebook(notebook_data, pool_size, template_name, theme, request_args):
            return False
        page = self.path_args[0] if self.path_args else ""
        return _same_cells(notebook_data.get("notebook"), Path(self.settings["voila"].root_dir, page))


def _cells(notebook) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(c.get("cell_type", ""), "".join(c.get("source", ""))) for c in notebook.get("cells", [])]


def _same_cells(pre_run, path: Path) -> bool:  # noqa: ANN001
    """Whether the notebook at ``path`` has the cells (types and sources) of ``pre_run``."""
    if pre_run is None:
        return False
    try:
        current = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return False
    return _cells(current) == _cells(pre_run)


class DashboardVoila(Voila):
    def init_handlers(self) -> list:
        return [(pattern, DashboardPageHandler, *rest) if handler is TornadoVoilaHandler else (pattern, handler, *rest)
                for pattern, handler, *rest in super().init_handlers()]  # fmt: skip


main = DashboardVoila.launch_instance

if __name__ == "__main__":
    main()
