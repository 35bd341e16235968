"""QuantDB Lab in JupyterLab: a side panel (the prebuilt labextension) and the server route it reads."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "quantdb-lab-jupyterlab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "quantdb_lab_jupyterlab"}]


def _load_jupyter_server_extension(server_app) -> None:
    from quantdb_lab_jupyterlab.handlers import setup_handlers

    setup_handlers(server_app.web_app, server_app.root_dir)
    server_app.log.info("quantdb_lab_jupyterlab: serving /quantdb-lab/stats and /quantdb-lab/dashboards")
