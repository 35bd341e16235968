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

And one kernel manager of ours (``DashboardKernelManager``): a pre-run kernel's idle time counts from when Voila
handed it to a page, not from when its notebook ran. The culler spares kernels in the pool; a kernel taken from
it had been "idle" since its pre-run, minutes before, and with no connection yet, so a culler passing before the
page's websocket connected shut the page's kernel down under it (seen: a page that never drew its widgets).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import tornado.web
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
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


class DashboardKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager base (``VoilaConfiguration.multi_kernel_manager_class``) under its pool."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._pre_run: set[str] = set()  # kernels started for a pool, until the culler first sees them

    async def start_kernel(self, *args, **kwargs) -> str:  # noqa: ANN002, ANN003
        kernel_id = await super().start_kernel(*args, **kwargs)
        if (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True":
            self._pre_run.add(kernel_id)
        return kernel_id

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        # Voila's pool manager passes a kernel on to here only once it has left the pool for a page
        if kernel_id in self._pre_run:
            self._pre_run.discard(kernel_id)
            self.get_kernel(kernel_id).last_activity = utcnow()  # idle from now: its page may still be connecting
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        self._pre_run.discard(kernel_id)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)


class DashboardVoila(Voila):
    def init_handlers(self) -> list:
        return [(pattern, DashboardPageHandler, *rest) if handler is TornadoVoilaHandler else (pattern, handler, *rest)
                for pattern, handler, *rest in super().init_handlers()]  # fmt: skip


main = DashboardVoila.launch_instance

if __name__ == "__main__":
    main()
