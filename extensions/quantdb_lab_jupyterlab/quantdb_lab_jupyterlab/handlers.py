"""``GET /quantdb-lab/stats``: the panel's JSON, computed off the event loop."""

from __future__ import annotations

import asyncio
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from quantdb_lab_jupyterlab.stats import panel_stats


class StatsHandler(APIHandler):
    def initialize(self, root_dir: str) -> None:
        self.root_dir = root_dir

    @tornado.web.authenticated
    async def get(self) -> None:
        payload = await asyncio.to_thread(panel_stats, self.root_dir)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))


def setup_handlers(web_app, root_dir: str) -> None:
    route = url_path_join(web_app.settings["base_url"], "quantdb-lab", "stats")
    web_app.add_handlers(".*$", [(route, StatsHandler, {"root_dir": root_dir})])
