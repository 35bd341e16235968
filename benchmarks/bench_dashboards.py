"""Dashboard load times under Voila in headless Chromium: seconds from opening a page to its widgets and
charts being drawn (usable), per dashboard, warm cache; and how often plotly's script is fetched per page.

    python benchmarks/bench_dashboards.py [--repeat 3]    # prints a markdown table (figures printed, not asserted)

Needs Debian chromium at /usr/bin/chromium and playwright (never ``playwright install``). One Voila server on
127.0.0.1 over notebooks/, the simulated market and a fresh cache; the first round warms the cache and is not
counted. The issue's figures (before: each chart evaluated plotly's 5 MB script again) are printed beside.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import fmt_ratio, markdown_table, median  # noqa: E402
from quantdb_lab.ui.dashboards import INDEX, present  # noqa: E402
from quantdb_lab.ui.voila_server import PLOTLY_ASSET, VoilaServer, voila_env  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
BEFORE = {"index": 2.5, "quality": 10.8, "cache_monitor": 11.9, "portfolio": 16.0, "gaps": 14.1,
          "multimodal": 16.0, "ask": 27.6}  # s, the observations (portfolio: middle of 13.5-18.5)  # fmt: skip


def load(page, url: str, *, charts: bool) -> float:
    started = time.monotonic()
    page.goto(url, timeout=300_000, wait_until="load")
    page.wait_for_function("() => { const c = document.querySelector('#rendered_cells');"
                           " return c && getComputedStyle(c).display !== 'none'; }", timeout=300_000)  # fmt: skip
    page.locator("#rendered_cells .jupyter-widgets, #rendered_cells a[href$='.ipynb']").first.wait_for(state="visible", timeout=300_000)
    if charts:
        page.locator("#rendered_cells .js-plotly-plot").first.wait_for(state="visible", timeout=300_000)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("bench_dashboards: /usr/bin/chromium is missing (apt-get install chromium); skipped")
        return 0
    from playwright.sync_api import sync_playwright

    pages = [("index", INDEX, False), *((d.name, d.notebook, True) for d in present())]
    cache, profile = tempfile.mkdtemp(prefix="qdb-bench-cache-"), tempfile.mkdtemp(prefix="qdb-bench-chromium-")
    times: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    fetches: dict[str, list[int]] = {name: [] for name, _, _ in pages}
    env = voila_env(os.environ, provider="simulated", cache_dir=cache)
    try:
        with VoilaServer(ROOT / "notebooks", env=env) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True, viewport={"width": 1280, "height": 900})
            for round_ in range(args.repeat + 1):  # round 0 warms the cache
                for name, notebook, charts in pages:
                    page = browser.new_page()
                    urls: list[str] = []
                    page.on("request", lambda r, urls=urls: urls.append(r.url))
                    seconds = load(page, server.url(notebook), charts=charts)
                    page.close(run_before_unload=True)
                    if round_:
                        times[name].append(seconds)
                        fetches[name].append(sum(u.split("?")[0].endswith(PLOTLY_ASSET) for u in urls))
            browser.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    rows = []
    for name, _, _ in pages:
        now = median(times[name])
        before = BEFORE.get(name)
        rows.append([name, f"{now:.1f}", f"{before:.1f}" if before else "–", fmt_ratio(before, now),
                     str(max(fetches[name], default=0))])  # fmt: skip
    print(f"Dashboards under Voila, warm cache, median of {args.repeat} loads (s to usable); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(markdown_table(["dashboard", "usable (s)", "issue 23 (s)", "speed-up", "plotly script fetches/page"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
