"""Fast and light under Voila: plotly's script fetched once per page however many charts, and the kernels of
pages left (closed with or without their ``beforeunload``) shut down or culled, so 20 pages opened one after
another leave the server's kernel count and memory bounded: what is left is the pool of pre-run kernels (one per
dashboard), never a page's kernel, and the pool itself is bounded."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from quantdb_lab.ui.dashboards import notebooks_dir
from quantdb_lab.ui.process_tree import cmdline, descendants, rss_bytes, wait_idle
from quantdb_lab.ui.voila_server import PLOTLY_ASSET, VoilaServer, voila_env
from tests.browser.conftest import ARTIFACTS
from tests.browser.voila_page import PLOTS, RENDERED, open_dashboard, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = 20
CULL_IDLE, CULL_INTERVAL = 20, 3  # s: short so the test sees the culler act (default: minutes), longer than a page takes to connect
MAX_KERNELS = 3  # the page open, at most a couple still shutting down
CULLING_LOG = ARTIFACTS / "voila-culling.log"
MAX_RSS = 2.5 * 2**30  # growth over the idle server with its pool, bytes; 13 kernels held about 3.5 GB before culling
POOL_KERNEL_RSS = 350 * 2**20  # bytes a pre-run kernel may hold (a dashboard's notebook run, its widgets kept)


def kernels(server: VoilaServer) -> list[int]:
    return [p for p in descendants(server.process.pid) if "ipykernel" in cmdline(p)]


def kernel_id(pid: int) -> str:
    found = re.search(r"kernel-([0-9a-f-]{36})\.json", cmdline(pid))
    return found.group(1) if found else ""


def total_rss(server: VoilaServer) -> int:
    return rss_bytes(descendants(server.process.pid))


def page_kernel(page) -> str:
    return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def wait_for_pools(server: VoilaServer, log: Path, timeout: float = 600.0) -> int:
    """Until every pool pre-ran its notebook: the server logs each pool's kernel started, then the kernels run
    their notebooks until the server is idle. Returns the number of pre-run kernels."""
    from quantdb_lab.ui.voila_server import pool_config

    pools = pool_config(server.directory, server.pool_size)["VoilaKernelManager"]["kernel_pools_config"]
    wanted = {name for name, pool in pools.items() if name != "default" and pool["pool_size"] > 0}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if all(f"Kernel pool of {name} is filled" in text for name in wanted):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the pools of {sorted(wanted)} did not fill within {timeout:.0f} s")
    wait_idle([server.process.pid], below=0.1, window=2.0, timeout=max(deadline - time.monotonic(), 0.0))
    return len(wanted) * server.pool_size


@pytest.fixture
def culling_voila(dashboard_cache):
    ARTIFACTS.mkdir(exist_ok=True)
    CULLING_LOG.unlink(missing_ok=True)  # wait_for_pools reads this server's log
    env = voila_env(os.environ, provider="simulated", cache_dir=str(dashboard_cache))
    server = VoilaServer(notebooks_dir(), env=env, log=CULLING_LOG,
                         cull_idle_timeout=CULL_IDLE, cull_interval=CULL_INTERVAL)  # fmt: skip
    with server:
        yield server


def test_plotly_is_fetched_once_for_a_page_with_several_charts(voila, new_page):
    page, log = new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    open_dashboard(page, voila.url("portfolio.ipynb"), timeout=240)
    wait_for_widgets(page, timeout=240)
    charts = page.locator(f"{RENDERED} {PLOTS}")
    deadline = time.monotonic() + 30
    while charts.count() < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert charts.count() >= 3  # the notebook's performance chart and the widget's two
    assert [u for u in fetched if u.split("?")[0].endswith(PLOTLY_ASSET)] == [voila.link() + f"voila/static/{PLOTLY_ASSET}"]
    assert log.errors == [], f"JavaScript console errors: {log.errors}"


def test_charts_draw_on_a_page_opened_at_localhost(voila, new_page):
    # plotly's script was named by an absolute 127.0.0.1 address: a page opened at localhost (another origin) could
    # not import it, and drew no chart
    page, log = new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    open_dashboard(page, voila.url("portfolio.ipynb").replace("127.0.0.1", "localhost"), timeout=240)
    wait_for_widgets(page, timeout=240)
    assert page.locator(f"{RENDERED} {PLOTS}").count() >= 1
    served = [u for u in fetched if u.split("?")[0].endswith(PLOTLY_ASSET)]
    assert [urlparse(u).hostname for u in served] == ["localhost"]
    assert log.errors == [], f"JavaScript console errors: {log.errors}"


def test_a_page_left_properly_shuts_its_kernel_down_at_once(voila, new_page):
    # Voila's beforeunload beacon carries the page's _xsrf cookie; without one the server refused it (403) and
    # the kernel lived on until the culler, minutes later
    page, log = new_page()
    # Voila's widget manager registers the beacon once it has fetched the kernel's model, after the page shows:
    # note when it does, so the page is not left before it can say goodbye (seen on a loaded machine)
    page.add_init_script("""(() => { const add = window.addEventListener; window.qdbBeacon = false;
        window.addEventListener = function (type, listener, ...rest) {
            if (type === 'beforeunload' && String(listener).includes('sendBeacon')) window.qdbBeacon = true;
            return add.call(this, type, listener, ...rest); }; })()""")
    open_dashboard(page, voila.url("index.ipynb"), timeout=240)
    page.wait_for_function("() => window.qdbBeacon === true", timeout=240_000)
    ours = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert any(kernel_id(p) == ours for p in kernels(voila)), "the page's kernel was not found running"
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 30  # far below the culler's idle timeout
    while any(kernel_id(p) == ours for p in kernels(voila)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not any(kernel_id(p) == ours for p in kernels(voila)), "the kernel outlived its page"
    assert voila.cull_idle_timeout > 60


@pytest.mark.timeout(1500)  # 20 page loads: minutes on a loaded machine
def test_twenty_pages_leave_the_kernels_and_memory_bounded(culling_voila, new_page):
    server = culling_voila
    pooled = wait_for_pools(server, CULLING_LOG)
    assert pooled >= 2 and len(kernels(server)) == pooled  # the landing page's and each dashboard's
    idle_rss = total_rss(server)
    assert idle_rss < 400 * 2**20 + pooled * POOL_KERNEL_RSS, f"the pool holds {idle_rss / 2**20:.0f} MB"
    peak_kernels, peak_rss, served = 0, 0, set()
    for i in range(PAGES):
        page, log = new_page()
        open_dashboard(page, server.url("cache_monitor.ipynb" if i % 5 == 0 else "index.ipynb"), timeout=240)
        if i % 5 == 0:
            wait_for_widgets(page, timeout=240)
        assert log.errors == [], f"page {i}: JavaScript console errors: {log.errors}"
        served.add(page_kernel(page))
        peak_kernels, peak_rss = max(peak_kernels, len(kernels(server))), max(peak_rss, total_rss(server))
        # half the pages are left properly (beforeunload asks Voila to shut the kernel), half are just dropped
        page.close(run_before_unload=i % 2 == 0)
    deadline = time.monotonic() + CULL_IDLE + 3 * CULL_INTERVAL + 90  # a loaded machine reaps slowly
    while {kernel_id(p) for p in kernels(server)} & served and time.monotonic() < deadline:
        time.sleep(0.5)
    left, rss = kernels(server), total_rss(server)
    print(f"{PAGES} pages: {pooled} pre-run kernels holding {idle_rss / 2**20:.0f} MB before; peak {peak_kernels} "
          f"kernels, peak RSS {peak_rss / 2**20:.0f} MB; after culling {len(left)} kernels, RSS {rss / 2**20:.0f} MB")
    # pages dropped while their websocket was still being prepared too: jupyter-server once counted those to -1
    still = sorted({kernel_id(p) for p in left} & served)
    assert still == [], f"{len(still)} kernels of pages left were never shut down: {still}"
    assert len(served) == PAGES  # every page had a kernel of its own (a pool kernel serves one page)
    assert len(left) <= pooled, "pre-run kernels beyond the pool"  # refilled pools, nothing more
    assert peak_kernels <= pooled + MAX_KERNELS + PAGES // 2, "kernels pile up"  # dropped pages wait for the culler
    assert peak_rss - idle_rss < MAX_RSS, f"peak RSS {peak_rss / 2**30:.2f} GB over {idle_rss / 2**30:.2f} GB idle"
    assert rss < idle_rss + 400 * 2**20, f"after the pages the server holds {rss / 2**20:.0f} MB"
