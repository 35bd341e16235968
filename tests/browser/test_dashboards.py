"""Each dashboard present under Voila, in headless Chromium: renders cleanly, responds, and is photographed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from quantdb_lab.ui.dashboards import DASHBOARDS, Dashboard, notebooks_dir, present
from tests.browser.conftest import screenshot
from tests.browser.voila_page import open_dashboard, perform, stderr_outputs, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETTLE_MS = 400  # let late widget views finish before the screenshot


def _fetch_elsewhere(cache_dir) -> None:
    """Another process fills the shared cache (what the cache monitor's Refresh must then show)."""
    subprocess.run(
        [sys.executable, "-m", "quantdb_lab.cli", "--provider", "simulated", "--cache-dir", str(cache_dir),
         "fetch", "600519", "300750", "--start", "2024-01-02", "--end", "2024-06-28"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


BEFORE = {"fetch_elsewhere": _fetch_elsewhere}


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.name for d in DASHBOARDS])
def test_dashboard_renders_responds_and_is_photographed(dashboard: Dashboard, voila, new_page, dashboard_cache):
    if not dashboard.path(notebooks_dir()).is_file():
        pytest.skip(f"{dashboard.notebook} does not exist yet")
    page, log = new_page()
    started = time.monotonic()
    open_dashboard(page, voila.url(dashboard.notebook))
    wait_for_widgets(page)
    loaded = time.monotonic() - started
    assert page.locator("#rendered_cells .jp-InputArea-editor").count() == 0, "source cells are shown"

    if dashboard.interaction.before:
        BEFORE[dashboard.interaction.before](dashboard_cache)
    seconds = perform(page, dashboard.interaction)
    page.wait_for_timeout(SETTLE_MS)
    path = screenshot(page, dashboard.name)

    print(f"{dashboard.name}: shown in {loaded:.1f} s, responded in {seconds:.2f} s; screenshot {path.name}")
    assert stderr_outputs(page) == [], "a cell wrote to stderr (a traceback or a warning)"
    assert log.errors == [], f"JavaScript console errors: {log.errors}"
    assert log.outside == [], f"requests left the machine: {log.outside}"
    assert seconds < 5, f"the dashboard took {seconds:.1f} s to respond"


def test_landing_page_lists_the_dashboards_present_and_links_to_them(voila, new_page):
    page, log = new_page()
    open_dashboard(page, voila.url("index.ipynb"))
    links = page.locator('#rendered_cells a[href$=".ipynb"]')
    links.first.wait_for(state="visible")
    assert sorted(links.all_inner_texts()) == sorted(d.title for d in present())
    hrefs = page.eval_on_selector_all('#rendered_cells a[href$=".ipynb"]', "links => links.map(a => a.href)")
    assert voila.link("cache_monitor.ipynb") in hrefs  # links carry no token: the login cookie does
    screenshot(page, "index")
    assert log.errors == [] and log.outside == []
