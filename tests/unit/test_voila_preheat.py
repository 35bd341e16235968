"""Preheated dashboard kernels: a pool per dashboard and none for other notebooks; a page served from the pool only
while the notebook on disk is the one pre-run, with the server's own environment; the ``_xsrf`` cookie with it."""

from __future__ import annotations

import os
import re
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from quantdb_lab.ui.dashboards import DASHBOARDS, INDEX
from quantdb_lab.ui.voila_server import VoilaServer, pool_config, voila_env


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_pool_per_dashboard_and_the_landing_page_none_for_other_notebooks(tmp_path):
    for name in (INDEX, "portfolio.ipynb", "ask.ipynb", "live.ipynb", "mine.ipynb"):
        _notebook(tmp_path / name, "1")
    config = pool_config(tmp_path, 2)
    assert config["VoilaConfiguration"] == {"preheat_kernel": True, "default_pool_size": 0}
    pools = config["VoilaKernelManager"]["kernel_pools_config"]
    assert pools == {"default": {"pool_size": 0}, INDEX: {"pool_size": 2}, "portfolio.ipynb": {"pool_size": 2},
                     "ask.ipynb": {"pool_size": 2}}  # fmt: skip
    assert {d.notebook for d in DASHBOARDS} >= {"portfolio.ipynb", "ask.ipynb"}


def test_the_server_writes_the_pool_config_only_when_asked_for_a_pool(tmp_path):
    assert VoilaServer(tmp_path, pool_size=0).pool_size == 0
    assert VoilaServer(tmp_path).pool_size == 1  # the default: one pre-run kernel per dashboard


def _get(server: VoilaServer, notebook: str) -> tuple[str, list[str]]:
    with urllib.request.urlopen(server.url(notebook), timeout=120) as response:
        return response.read().decode(), response.headers.get_all("Set-Cookie") or []


def _wait_for(log: Path, text: str, count: int = 1, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} x{count} not in the server log within {timeout:.0f} s")


def test_a_preheated_page_is_the_notebook_on_disk_run_with_the_servers_environment(tmp_path):
    pytest.importorskip("voila")
    notebooks, cache = tmp_path / "notebooks", tmp_path / "cache"
    notebooks.mkdir()
    show = ("import os\nfrom IPython.display import HTML\n"
            "HTML(f'<p id=\"said\">{X} {os.environ[\"QUANTDB_LAB_PROVIDER\"]} {os.environ[\"QUANTDB_LAB_CACHE_DIR\"]}</p>')")  # fmt: skip
    _notebook(notebooks / INDEX, "X = 'first'\n" + show)
    log = tmp_path / "voila.log"
    env = voila_env(os.environ, provider="replay:somewhere", cache_dir=str(cache))
    with VoilaServer(notebooks, env=env, log=log, pool_size=1) as server:
        _wait_for(log, "Kernel pool of index.ipynb is filled")
        page, cookies = _get(server, INDEX)
        assert f"first replay:somewhere {cache}" in page  # pre-run with the server's provider and cache
        assert "Using pre-heated kernel" in log.read_text()
        assert any(c.startswith("_xsrf=") for c in cookies)  # the beforeunload shutdown needs it
        _wait_for(log, "Kernel pool of index.ipynb is filled", count=2)  # refilled after the page took one
        _notebook(notebooks / INDEX, "X = 'second'\n" + show)  # a new parameter in the first cell
        page, cookies = _get(server, INDEX)
        assert f"second replay:somewhere {cache}" in page and "first replay" not in page
        assert log.read_text().count("Using pre-heated kernel") == 1  # rendered afresh, not from the pool
        assert any(c.startswith("_xsrf=") for c in cookies)


def test_a_kernel_taken_from_the_pool_is_idle_from_when_it_was_served_not_from_its_pre_run(tmp_path):
    # the culler spares pooled kernels; one handed to a page had been "idle" since its pre-run, with no connection
    # yet, and the next culler pass shut it down before the page's websocket connected
    pytest.importorskip("voila")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / INDEX, "1 + 1")
    log = tmp_path / "voila.log"
    env = voila_env(os.environ, provider="simulated", cache_dir=str(tmp_path / "cache"))
    with VoilaServer(notebooks, env=env, log=log, pool_size=1, cull_idle_timeout=4, cull_interval=1) as server:
        _wait_for(log, "Kernel pool of index.ipynb is filled")
        time.sleep(6)  # the pooled kernel is now idle for longer than the timeout
        page, _ = _get(server, INDEX)
        served = page.split('"kernelId": "', 1)[1].split('"', 1)[0]
        time.sleep(2.5)  # two culler passes: the page (never connecting here) still has its kernel
        assert f"({served})" not in log.read_text(), "culled as it was served"
        _wait_for(log, f"({served}) with 0 connections", timeout=30)  # then culled once idle that long


def test_a_pooled_kernel_older_than_the_max_age_is_run_afresh(tmp_path):
    # a pre-run page shows the cache as it was when it ran: Voila alone would hand it out hours later
    pytest.importorskip("voila")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / INDEX, "import time\nfrom IPython.display import HTML\n"
                                 "HTML(f'<p id=\"ran\">ran at {time.time():.3f}</p>')")  # fmt: skip
    log = tmp_path / "voila.log"
    env = voila_env(os.environ, provider="simulated", cache_dir=str(tmp_path / "cache"))
    max_age = 8
    with VoilaServer(notebooks, env=env, log=log, pool_size=1, pool_max_age=max_age) as server:
        _wait_for(log, "Kernel pool of index.ipynb is filled")
        _wait_for(log, "Kernel pool of index.ipynb is filled", count=2, timeout=90)  # recycled once it was too old
        assert "Recycling pre-heated kernel" in log.read_text()
        page, _ = _get(server, INDEX)
        ran = float(re.search(r"ran at (\d+\.\d+)", page).group(1))
        assert time.time() - ran < max_age + max_age / 4 + 5  # at most the age plus one look (and a start)
        assert log.read_text().count("Using pre-heated kernel") == 1  # still served from the (new) pool
    assert VoilaServer(tmp_path, pool_max_age=-3).pool_max_age == 0
