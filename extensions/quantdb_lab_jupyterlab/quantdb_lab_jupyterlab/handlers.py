"""``GET /quantdb-lab/stats``: the panel's JSON, computed off the event loop. ``POST
/quantdb-lab/dashboards/<name>``: where to open that dashboard from, under the server root (``copies``)."""

from __future__ import annotations

import asyncio
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from quantdb_lab_jupyterlab.copies import materialize
from quantdb_lab_jupyterlab.stats import panel_stats


class StatsHandler(APIHandler):
    def initialize(self, root_dir: str) -> None:
        self.root_dir = root_dir

    @tornado.web.authenticated
    async def get(self) -> None:
        payload = await asyncio.to_thread(panel_stats, self.root_dir)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))


class DashboardHandler(APIHandler):
    def initialize(self, root_dir: str) -> None:
        self.root_dir = root_dir

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        try:
            path = await asyncio.to_thread(materialize, name, self.root_dir)
        except KeyError as exc:
            raise tornado.web.HTTPError(404, str(exc.args[0] if exc.args else exc)) from exc
        except OSError as exc:
            raise tornado.web.HTTPError(500, f"cannot place the dashboard under the server root: {exc}") from exc
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"name": name, "path": path}))


def setup_handlers(web_app, root_dir: str) -> None:
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base, "quantdb-lab", "stats"), StatsHandler, {"root_dir": root_dir}),
        (url_path_join(base, "quantdb-lab", "dashboards", r"([A-Za-z0-9_-]+)"), DashboardHandler, {"root_dir": root_dir}),
    ])  # fmt: skip
