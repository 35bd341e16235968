"""Voila serving the dashboards on 127.0.0.1: the command line, a free port, and a start/stop by process id.

Voila (``voila_app``: Voila's app with our page handler) runs in its own process group (so a terminal's Ctrl-C
reaches only us, and we stop it in order), with sources stripped and the ``quantdb`` template: Voila's lab template minus its CDN links, found through
``JUPYTER_PATH`` from the package's ``jupyter_data`` folder.

It asks for a token, as JupyterLab does: anyone who can reach 127.0.0.1 (every local user) could otherwise run
the dashboards' kernels with the owner's environment and files. The token is random per server and passed in
the server's environment (``JUPYTER_TOKEN``), not on its command line, which every local user can read;
``url()`` carries it (``?token=...``) and the browser keeps a login cookie after the first page.

Light on memory: a page's kernel is shut down when the page is left (Voila's ``beforeunload`` request) and,
when that request never comes (a closed laptop, a killed tab), culled once it has had no connection and no
activity for ``cull_idle_timeout`` seconds (jupyter-server's culler, run every ``cull_interval`` seconds). A
kernel with a page still connected is never culled. A page left while its kernel's websocket was still being
prepared is counted out right (``voila_connection``), so its kernel is culled like any other. Each page gets
its ``_xsrf`` cookie as it is served (``voila_app``), without which Voila's shutdown request was refused.

Quick to open: ``pool_size`` kernels per dashboard and for the landing page (default 1; 0: none) are started
with the server and run their notebook before anyone asks (Voila's preheated kernels); a page takes one, already
run, and Voila starts its replacement a second later. They run with the server's environment (provider, cache
directory, ``$QUANTDB_LAB_PLOTLY_ESM``), as a page's own kernel would; the culler leaves them alone, so the
server holds at most ``pool_size`` idle kernels per dashboard beyond the pages open. A kernel taken from the
pool is idle from when it was served, and one that waited ``pool_max_age`` seconds (default 15 minutes) is run
afresh, so a page never shows the cache as it was hours ago (``voila_app.DashboardKernelManager``). A notebook edited since its pool
pre-ran it is rendered afresh (``voila_app``). Other notebooks in the folder get no pool.

Fast: plotly's widget script (5 MB) is served once, as a static file of the template
(``/voila/static/plotly-widget.js``, copied from the installed plotly into a folder of the server's own), and
the kernels' FigureWidgets name it by address (``$QUANTDB_LAB_PLOTLY_ESM``, see ``widgets.figure_view``): the
browser fetches and evaluates an ES module once per URL, so a page with five charts loads plotly once, and the
widget state no longer carries the script.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from jupyter_core.paths import jupyter_config_path

from quantdb_lab.config import CACHE_DIR_ENV, PLOTLY_ESM_ENV, PROVIDER_ENV
from quantdb_lab.ui.dashboards import INDEX, present

HOST = "127.0.0.1"
TEMPLATE = "quantdb"
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter_data"
PLOTLY_ASSET = "plotly-widget.js"
CULL_IDLE_TIMEOUT = 120  # s without a connection or activity before a kernel is shut down
CULL_INTERVAL = 30  # s between two looks of the culler
CONNECTION_CLASS = "quantdb_lab.ui.voila_connection.CountedKernelConnection"
KERNEL_MANAGER_CLASS = "quantdb_lab.ui.voila_app.DashboardKernelManager"
POOL_SIZE = 1  # kernels kept pre-run per dashboard (and the landing page); 0: none, each page starts its own
POOL_MAX_AGE = 900  # s a pre-run kernel waits for a page before it is run afresh (its page shows the cache as it was)


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the process that started us dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def voila_command(directory: Path, port: int, *, theme: str = "light", cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
                  cull_interval: int = CULL_INTERVAL, config_dir: Path | None = None,
                  pool_max_age: int = POOL_MAX_AGE) -> list[str]:  # fmt: skip
    """Voila in tree mode over ``directory``: ``/`` lists the notebooks, ``/voila/render/<file>`` renders one.
    ``config_dir`` holds a ``voila.json`` read before the directory's and the user's (``pool_config``)."""
    configs = (*((config_dir,) if config_dir else ()), directory, *jupyter_config_path())
    return [
        sys.executable, "-m", "quantdb_lab.ui.voila_app", str(directory),
        "--no-browser", f"--Voila.ip={HOST}", f"--port={port}", "--Voila.port_retries=0",
        "--strip_sources=True", f"--template={TEMPLATE}", f"--theme={theme}",
        "--Voila.auto_token=True",  # the token itself comes from JUPYTER_TOKEN in the server's environment
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        "--MappingKernelManager.cull_connected=False",  # a page still open keeps its kernel
        f"--Voila.kernel_websocket_connection_class={CONNECTION_CLASS}",  # counts a page left early right
        f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER_CLASS}",  # a served pool kernel not culled at once
        f"--DashboardKernelManager.pool_max_age={int(pool_max_age)}",  # a pooled page never shows a stale cache
        *(f"--Voila.config_file_paths={p}" for p in configs),
    ]  # fmt: skip


def pool_config(directory: Path, pool_size: int) -> dict:
    """Voila's configuration for ``pool_size`` preheated kernels per dashboard present in ``directory`` and for the
    landing page, none for any other notebook there (workflows such as live.ipynb, a user's own notebooks)."""
    pools = {name: {"pool_size": int(pool_size)} for name in (INDEX, *(d.notebook for d in present(directory)))}
    return {
        "VoilaConfiguration": {"preheat_kernel": True, "default_pool_size": 0},
        "VoilaKernelManager": {"kernel_pools_config": {"default": {"pool_size": 0}, **pools}},
    }


def plotly_asset_dir() -> Path:
    """A fresh Jupyter data folder whose ``quantdb`` template serves plotly's widget script as a static file."""
    import plotly

    root = Path(tempfile.mkdtemp(prefix="qdb-voila-assets-"))
    static = root / "voila" / "templates" / TEMPLATE / "static"
    static.mkdir(parents=True)
    shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "widgetbundle.js", static / PLOTLY_ASSET)
    return root


def voila_env(base: Mapping[str, str], *, provider: str | None = None, cache_dir: str | None = None) -> dict[str, str]:
    """The server's (and so its kernels') environment: our template on ``JUPYTER_PATH``, provider and cache."""
    env = dict(base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH", "")) if p)
    if provider:
        env[PROVIDER_ENV] = provider
    if cache_dir:
        env[CACHE_DIR_ENV] = str(cache_dir)
    return env


class VoilaServer:
    """``with VoilaServer(directory) as server: server.url("cache_monitor.ipynb")``."""

    def __init__(self, directory: Path, *, port: int | None = None, env: Mapping[str, str] | None = None,
                 log: Path | None = None, token: str | None = None, cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
                 cull_interval: int = CULL_INTERVAL, pool_size: int = POOL_SIZE, pool_max_age: int = POOL_MAX_AGE,
                 extra_args: Sequence[str] = ()) -> None:  # fmt: skip
        self.directory = Path(directory)
        self.cull_idle_timeout, self.cull_interval = cull_idle_timeout, cull_interval
        self.pool_size, self.extra_args = max(int(pool_size), 0), tuple(extra_args)
        self.pool_max_age = max(int(pool_max_age), 0)
        self._assets: Path | None = None
        self.port = port or free_port()
        self.token = token or secrets.token_urlsafe(32)
        self.env = {**(dict(env) if env is not None else voila_env(os.environ)), "JUPYTER_TOKEN": self.token}
        self.log = log
        self.process: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"VoilaServer({str(self.directory)!r}, port={self.port})"  # never the token

    @property
    def base_url(self) -> str:
        """The landing page, with the token (what to print for the user to open)."""
        return f"{self.link()}?token={self.token}"

    def link(self, notebook: str | None = None) -> str:
        """The address of ``notebook`` (or of the landing page) as pages link to it: no token."""
        root = f"http://{HOST}:{self.port}/"
        return root if notebook is None else f"{root}voila/render/{notebook}"

    def url(self, notebook: str | None = None) -> str:
        """The address to open ``notebook`` (or the landing page) at, with the token."""
        return f"{self.link(notebook)}?token={self.token}"

    def start(self, timeout: float = 30.0) -> Self:
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._assets = plotly_asset_dir()
        env = dict(self.env)
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (env.get("JUPYTER_PATH", ""), str(self._assets)) if p)
        env[PLOTLY_ESM_ENV] = f"/voila/static/{PLOTLY_ASSET}"  # a path: the page may be at 127.0.0.1 or localhost
        if self.pool_size:
            (self._assets / "voila.json").write_text(json.dumps(pool_config(self.directory, self.pool_size)))
        command = voila_command(self.directory, self.port, cull_idle_timeout=self.cull_idle_timeout,
                                cull_interval=self.cull_interval, config_dir=self._assets,
                                pool_max_age=self.pool_max_age) + list(self.extra_args)  # fmt: skip
        self.process = subprocess.Popen(
            command, env=env, cwd=self.directory,
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509 - prctl only
        )  # fmt: skip
        self._output = output
        self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"voila exited with code {self.process.returncode} before listening")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"voila did not listen on {HOST}:{self.port} within {timeout:.0f} s")

    def wait(self) -> int:
        return self.process.wait()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the server's process group (it shuts its kernels down), SIGKILL after ``grace`` seconds."""
        process, self.process = self.process, None
        if process is None:
            return
        stop_process_group(process, grace)
        if self._assets is not None:
            shutil.rmtree(self._assets, ignore_errors=True)
            self._assets = None
        if self._output is not subprocess.DEVNULL:
            self._output.close()

    def __enter__(self) -> Self:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM to ``process``'s group, SIGKILL after ``grace`` seconds, then SIGKILL for anything left behind
    (kernels). The server must have been started with ``start_new_session=True``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
