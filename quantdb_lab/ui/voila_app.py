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

And one kernel manager of ours (``DashboardKernelManager``), for two things Voila's pool does not do:

- A pre-run kernel's idle time counts from when Voila handed it to a page, not from when its notebook ran. The
  culler spares kernels in the pool; a kernel taken from it had been "idle" since its pre-run, minutes before,
  and with no connection yet, so a culler passing before the page's websocket connected shut the page's kernel
  down under it (seen: a page that never drew its widgets).
- A pooled kernel has a maximum age (``pool_max_age`` seconds, 0: none). Its page was computed when it pre-ran,
  from the cache as it was then; Voila would hand it out hours later, a quality report or cache monitor that no
  longer says what the cache holds. Kernels older than that are shut down and the pool refilled, so a page from
  the pool is at most ``pool_max_age`` plus one look (``pool_max_age / 4``, at most a minute) old.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nbformat
import tornado.web
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Integer
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

    pool_max_age = Integer(900, config=True, help="Seconds a pre-run pool kernel may wait for a page (0: forever).")

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._pre_run: set[str] = set()  # kernels started for a pool, until the culler first sees them
        self._started: dict[str, float] = {}  # pool kernels -> when they started (monotonic seconds)
        self._recycler: asyncio.Task | None = None

    async def start_kernel(self, *args, **kwargs) -> str:  # noqa: ANN002, ANN003
        kernel_id = await super().start_kernel(*args, **kwargs)
        if (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True":
            self._pre_run.add(kernel_id)
            self._started[kernel_id] = time.monotonic()
            if self.pool_max_age > 0 and self._recycler is None:
                self._recycler = asyncio.get_running_loop().create_task(self._recycle_stale_pool_kernels())
        return kernel_id

    async def _recycle_stale_pool_kernels(self) -> None:
        """Every look, shut down the pooled kernels older than ``pool_max_age`` and refill their pools."""
        while True:
            await asyncio.sleep(min(60.0, self.pool_max_age / 4))
            for notebook, kernel_id in self._stale_pool_kernels():
                age = time.monotonic() - self._started.get(kernel_id, 0.0)
                self.log.info("Recycling pre-heated kernel %s of %s: pre-run %.0f s ago, pool max age %d s",
                              kernel_id, notebook, age, self.pool_max_age)  # fmt: skip
                try:
                    await self.shutdown_kernel(kernel_id)  # Voila's override drops it from its pool first
                except Exception as exc:  # noqa: BLE001 - one kernel that will not stop must not end the recycling
                    self.log.warning("Could not recycle kernel %s: %s", kernel_id, exc)
                    continue
                self.fill_if_needed(delay=0, notebook_name=notebook)

    def _stale_pool_kernels(self) -> list[tuple[str, str]]:
        now, stale = time.monotonic(), []
        for notebook, pool in getattr(self, "_pools", {}).items():  # Voila's pool manager subclasses this one
            for task in pool:
                if not task.done() or task.cancelled() or task.exception() is not None:
                    continue
                kernel_id = task.result().get("kernel_id")
                if kernel_id in self._started and now - self._started[kernel_id] > self.pool_max_age:
                    stale.append((notebook, kernel_id))
        return stale

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        # Voila's pool manager passes a kernel on to here only once it has left the pool for a page
        if kernel_id in self._pre_run:
            self._pre_run.discard(kernel_id)
            self.get_kernel(kernel_id).last_activity = utcnow()  # idle from now: its page may still be connecting
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        self._pre_run.discard(kernel_id)
        self._started.pop(kernel_id, None)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)


class DashboardVoila(Voila):
    def init_handlers(self) -> list:
        return [(pattern, DashboardPageHandler, *rest) if handler is TornadoVoilaHandler else (pattern, handler, *rest)
                for pattern, handler, *rest in super().init_handlers()]  # fmt: skip


main = DashboardVoila.launch_instance

if __name__ == "__main__":
    main()
