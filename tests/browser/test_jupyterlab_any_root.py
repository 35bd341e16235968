"""JupyterLab started outside the repository: the QuantDB Lab panel's dashboard buttons still open the
dashboards (their notebooks come with the package; the server places a copy under its root on the first click)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.jupyterlab_server import JupyterLabServer, require_extension, running

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_extension()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab whose root is an empty folder outside the repository (``server.root``)."""
    folders = [tmp_path_factory.mktemp(name) for name in ("elsewhere", "jupyter-home", "lab-cache")]
    with running(*folders, ARTIFACTS / "jupyterlab-any-root.log") as server:
        yield server


def _post(server: JupyterLabServer, path: str) -> dict:
    request = urllib.request.Request(server.api(path), method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as response:  # 127.0.0.1 only
        return json.loads(response.read())


def test_the_server_route_places_a_copy_under_the_root(jupyterlab):
    root = jupyterlab.root
    assert _post(jupyterlab, "quantdb-lab/dashboards/quality") == {"name": "quality",
                                                                  "path": "quantdb_lab_dashboards/quality.ipynb"}  # fmt: skip
    assert (root / "quantdb_lab_dashboards" / "quality.ipynb").is_file()
    with pytest.raises(urllib.error.HTTPError) as caught:
        _post(jupyterlab, "quantdb-lab/dashboards/nothing_like_it")
    assert caught.value.code == 404


def test_the_panel_opens_a_dashboard_from_a_root_outside_the_repository(jupyterlab, new_page):
    root = jupyterlab.root
    page, log = new_page()
    page.goto(jupyterlab.url, wait_until="load", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=60_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='quantdb-lab-panel']").click()
    panel = page.locator("#quantdb-lab-panel")
    button = panel.locator(".qdb-dashboard[data-name='portfolio'] .qdb-open")
    button.wait_for(state="visible", timeout=30_000)
    assert button.is_enabled()
    button.click()
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="portfolio.ipynb").wait_for(timeout=30_000)
    assert (root / "quantdb_lab_dashboards" / "portfolio.ipynb").is_file()
    with page.context.expect_page(timeout=30_000) as popup:
        panel.locator(".qdb-dashboard[data-name='ask'] .qdb-voila").click()
    voila = popup.value
    # The URL is what the button decides; "load" would wait for Voila to run the whole notebook (tested elsewhere).
    voila.wait_for_url("**/voila/render/quantdb_lab_dashboards/ask.ipynb**", wait_until="commit", timeout=30_000)
    assert (root / "quantdb_lab_dashboards" / "ask.ipynb").is_file()
    voila.close()
    ours = [e for e in log.errors if "quantdb" in e.lower()]
    assert ours == [], ours
