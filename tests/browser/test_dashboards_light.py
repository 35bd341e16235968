"""Fast and light under Voila: plotly's script fetched once per page however many charts, and the kernels of
pages left (closed with or without their ``beforeunload``) shut down or culled, so 20 pages opened one after
another leave the server's kernel count and memory bounded."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from quantdb_lab.ui.dashboards import notebooks_dir
from quantdb_lab.ui.voila_server import PLOTLY_ASSET, VoilaServer, voila_env
from tests.browser.conftest import ARTIFACTS
from tests.browser.voila_page import PLOTS, RENDERED, open_dashboard, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = 20
CULL_IDLE, CULL_INTERVAL = 20, 3  # s: short so the test sees the culler act (default: minutes), longer than a page takes to connect
MAX_KERNELS = 3  # the page open, at most a couple still shutting down
CULLING_LOG = ARTIFACTS / "voila-culling.log"
MAX_RSS = 2.5 * 2**30  # server and kernels together, bytes; 13 kernels held about 3.5 GB before culling


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kernels(server: VoilaServer) -> list[int]:
    return [p for p in _tree(server.process.pid) if "ipykernel" in _cmdline(p)]


def kernel_id(pid: int) -> str:
    found = re.search(r"kernel-([0-9a-f-]{36})\.json", _cmdline(pid))
    return found.group(1) if found else ""


def total_rss(server: VoilaServer) -> int:
    return sum(_rss(p) for p in _tree(server.process.pid))


@pytest.fixture
def culling_voila(dashboard_cache):
    ARTIFACTS.mkdir(exist_ok=True)
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
    peak_kernels, peak_rss = 0, 0
    for i in range(PAGES):
        page, log = new_page()
        open_dashboard(page, server.url("cache_monitor.ipynb" if i % 5 == 0 else "index.ipynb"), timeout=240)
        if i % 5 == 0:
            wait_for_widgets(page, timeout=240)
        assert log.errors == [], f"page {i}: JavaScript console errors: {log.errors}"
        peak_kernels, peak_rss = max(peak_kernels, len(kernels(server))), max(peak_rss, total_rss(server))
        # half the pages are left properly (beforeunload asks Voila to shut the kernel), half are just dropped
        page.close(run_before_unload=i % 2 == 0)
    deadline = time.monotonic() + CULL_IDLE + 3 * CULL_INTERVAL + 90  # a loaded machine reaps slowly
    while kernels(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    left, rss = kernels(server), total_rss(server)
    print(f"{PAGES} pages: peak {peak_kernels} kernels, peak RSS {peak_rss / 2**20:.0f} MB; "
          f"after culling {len(left)} kernels, RSS {rss / 2**20:.0f} MB")
    # pages dropped while their websocket was still being prepared too: jupyter-server once counted those to -1
    assert left == [], f"{len(left)} kernels of pages left were never shut down: {[kernel_id(p) for p in left]}"
    assert peak_kernels <= MAX_KERNELS + PAGES // 2, "kernels pile up"  # dropped pages wait for the culler
    assert peak_rss < MAX_RSS, f"peak RSS {peak_rss / 2**30:.2f} GB"
    assert rss < 400 * 2**20, f"the idle server holds {rss / 2**20:.0f} MB"
