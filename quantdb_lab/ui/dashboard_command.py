"""``quantdb-lab dashboard [NAME]``: Voila over the dashboard notebooks until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from quantdb_lab.ui.dashboards import INDEX, get, notebooks_dir
from quantdb_lab.ui.voila_server import POOL_MAX_AGE, POOL_SIZE, VoilaServer, voila_env


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_dashboard(name: str | None = None, *, provider: str | None = None, cache_dir: str | None = None,
                  port: int | None = None, directory: Path | None = None, pool_size: int | None = None,
                  pool_max_age: int | None = None) -> int:  # fmt: skip
    """Start Voila, print the URL of ``name`` (or of the landing page) and wait; Ctrl-C or SIGTERM stops it."""
    where = directory or notebooks_dir()
    try:
        notebook = get(name).notebook if name else INDEX
    except KeyError as exc:
        print(f"quantdb-lab dashboard: {exc.args[0]}", file=sys.stderr)
        return 2
    if not (where / notebook).is_file():
        print(f"quantdb-lab dashboard: {notebook} is not in {where} (yet)", file=sys.stderr)
        return 2
    if pool_size is not None and pool_size < 0:
        print(f"quantdb-lab dashboard: --pool-size must be 0 or more, not {pool_size}", file=sys.stderr)
        return 2
    if pool_max_age is not None and pool_max_age < 0:
        print(f"quantdb-lab dashboard: --pool-max-age must be 0 or more, not {pool_max_age}", file=sys.stderr)
        return 2
    server = VoilaServer(where, port=port, env=voila_env(os.environ, provider=provider, cache_dir=cache_dir),
                         pool_size=POOL_SIZE if pool_size is None else pool_size,
                         pool_max_age=POOL_MAX_AGE if pool_max_age is None else pool_max_age)  # fmt: skip
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.start()
        print(f"Dashboards at {server.url(notebook)}", flush=True)
        print(f"All notebooks at {server.base_url}; Ctrl-C stops the server.", flush=True)
        code = server.wait()
        return 0 if code == 0 else 1
    except KeyboardInterrupt:
        print("stopping the dashboards ...", file=sys.stderr, flush=True)
        return 0
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
