"""JupyterLab on a free 127.0.0.1 port in its own process group, with its settings in a temporary folder."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from quantdb_lab.ui.voila_server import HOST, free_port, stop_process_group


class JupyterLabServer:
    def __init__(self, root: Path, home: Path, env: dict[str, str], log: Path) -> None:
        self.root, self.home, self.log = root, home, log
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.env = {
            **env,
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        }
        self.process: subprocess.Popen | None = None
        # No "get Jupyter news?" toast over the screenshot.
        notification = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text('{"fetchNews": "false"}')

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/lab?token={self.token}"

    def api(self, path: str) -> str:
        return f"http://{HOST}:{self.port}/{path.lstrip('/')}?token={self.token}"

    def start(self, timeout: float = 60.0) -> JupyterLabServer:
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", f"--ip={HOST}", f"--port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}", "--allow-root",
            "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        self._output = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, env=self.env, stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}; see {self.log}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"jupyter lab did not listen within {timeout:.0f} s")

    def stop(self, grace: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        stop_process_group(process, grace)
        self._output.close()


def require_extension() -> None:
    """Skip the calling module when the JupyterLab extension is not installed (fail in CI, where it must be)."""
    try:
        import quantdb_lab_jupyterlab  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("quantdb_lab_jupyterlab is not installed: tests/run.sh should have installed it")
        pytest.skip("the JupyterLab extension is not installed (bash tests/run.sh installs it)", allow_module_level=True)


@contextmanager
def running(root: Path, home: Path, cache: Path, log: Path) -> Iterator[JupyterLabServer]:
    """A started JupyterLab on ``root`` over the simulated market with its cache in ``cache``; stopped after."""
    env = {**os.environ, "QUANTDB_LAB_CACHE_DIR": str(cache), "QUANTDB_LAB_PROVIDER": "simulated"}
    env.pop("QUANTDB_LAB_NOTEBOOKS", None)
    log.parent.mkdir(parents=True, exist_ok=True)
    server = JupyterLabServer(root, home, env, log).start()
    try:
        yield server
    finally:
        server.stop()
