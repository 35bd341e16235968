"""JupyterLab with the installed extension: the QuantDB Lab panel shows live cache numbers and its dashboards."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from quantdb_lab.ui.dashboards import present
from tests.browser.conftest import ARTIFACTS, REPO
from tests.browser.jupyterlab_server import require_extension, running

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_extension()


@pytest.fixture(scope="module")
def lab_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lab-cache")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, lab_cache):
    with running(REPO, tmp_path_factory.mktemp("jupyter-home"), lab_cache, ARTIFACTS / "jupyterlab.log") as server:
        yield server


def _series_shown(page) -> int:
    text = page.locator("#quantdb-lab-panel .qdb-series").inner_text()
    return int(text)


def test_panel_shows_live_cache_numbers_and_opens_a_dashboard(jupyterlab, new_page, lab_cache):
    page, log = new_page()
    page.goto(jupyterlab.url, wait_until="load", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.widgets('left') && [...window.jupyterapp.shell.widgets('left')]"
        ".some(w => w.id === 'quantdb-lab-panel')",
        timeout=60_000,
    )
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    tab = page.locator(".jp-SideBar .lm-TabBar-tab[data-id='quantdb-lab-panel']")
    assert tab.get_attribute("title") == "QuantDB Lab"
    tab.click()
    panel = page.locator("#quantdb-lab-panel")
    panel.locator(".qdb-series").wait_for(state="visible", timeout=30_000)
    assert panel.locator(".qdb-mode").inner_text() == "research"
    assert panel.locator(".qdb-provider").inner_text() == "simulated"
    assert _series_shown(page) == 0

    # Another process fills the cache; the panel polls the server route and shows it without a reload.
    subprocess.run(
        [sys.executable, "-m", "quantdb_lab.cli", "--provider", "simulated", "--cache-dir", str(lab_cache),
         "fetch", "600519", "000001.SZ", "--start", "2024-01-02", "--end", "2024-03-29"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while _series_shown(page) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert _series_shown(page) == 2  # the unadjusted bars of two symbols (qfq is derived from them)
    assert re.search(r"\d", panel.locator(".qdb-bytes").inner_text())

    titles = panel.locator(".qdb-dashboard .qdb-open").all_inner_texts()
    assert titles == [d.title for d in present()]
    panel.locator(".qdb-dashboard[data-name='cache_monitor'] .qdb-open").click()
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="cache_monitor.ipynb").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    path = ARTIFACTS / "screenshots"
    page.screenshot(path=str(path / "jupyterlab_panel.png"))
    ours = [e for e in log.errors if "quantdb" in e.lower()]
    assert ours == [], ours
