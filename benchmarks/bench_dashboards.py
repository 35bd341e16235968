"""Dashboard load times under Voila in headless Chromium: seconds from opening a page to its widgets and
charts being drawn (usable), per dashboard, warm cache; and how often plotly's script is fetched per page.

    python benchmarks/bench_dashboards.py [--repeat 3] [--configs preheated,plain[,progressive]]

Prints a markdown table (figures printed, not asserted). Needs Debian chromium at /usr/bin/chromium and playwright
(never ``playwright install``). One Voila server per configuration on 127.0.0.1 over notebooks/, the simulated
market and one fresh cache; the first round warms the cache and is not counted. Configurations: ``preheated``
(what ``quantdb-lab dashboard`` runs: one pre-run kernel per dashboard), ``plain`` (no pool: each page starts a
kernel and runs its notebook), ``progressive`` (no pool, Voila's progressive rendering). The rounds interleave the
configurations, and each page load waits for every server to be idle first (a pool refilling after the previous
page, a kernel shutting down), so the ratios compare like with like on a shared machine. The issue's figures
(before: each chart evaluated plotly's 5 MB script again) are printed beside.
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
from quantdb_lab.ui.process_tree import descendants, rss_bytes  # noqa: E402
from quantdb_lab.ui.process_tree import wait_idle as until_idle  # noqa: E402
from quantdb_lab.ui.voila_server import PLOTLY_ASSET, POOL_SIZE, VoilaServer, voila_env  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
BEFORE = {"index": 2.5, "quality": 10.8, "cache_monitor": 11.9, "portfolio": 16.0, "gaps": 14.1,
          "multimodal": 16.0, "ask": 27.6}  # s, the observations (portfolio: middle of 13.5-18.5)  # fmt: skip


CONFIGS = {"preheated": {"pool_size": POOL_SIZE}, "plain": {"pool_size": 0},
           "progressive": {"pool_size": 0, "extra_args": ["--progressive_rendering=True"]}}  # fmt: skip


def rss_mb(server: VoilaServer) -> float:
    return rss_bytes(descendants(server.process.pid)) / 2**20


def wait_idle(servers: list[VoilaServer], *, timeout: float = 60.0) -> None:
    """Until the servers and their kernels use under 5% of a CPU over a second (a pool refilled, kernels gone)."""
    until_idle([s.process.pid for s in servers], below=0.05, window=1.0, timeout=timeout)


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
    parser.add_argument("--configs", default="preheated,plain", help=f"comma-separated, of {', '.join(CONFIGS)}")
    args = parser.parse_args()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if unknown := [c for c in configs if c not in CONFIGS]:
        parser.error(f"unknown configurations {unknown}; choose from {list(CONFIGS)}")
    if not CHROMIUM.exists():
        print("bench_dashboards: /usr/bin/chromium is missing (apt-get install chromium); skipped")
        return 0
    from playwright.sync_api import sync_playwright

    pages = [("index", INDEX, False), *((d.name, d.notebook, True) for d in present())]
    cache, profile = tempfile.mkdtemp(prefix="qdb-bench-cache-"), tempfile.mkdtemp(prefix="qdb-bench-chromium-")
    times = {(c, name): [] for c in configs for name, _, _ in pages}
    fetches = {(c, name): [] for c in configs for name, _, _ in pages}
    idle_rss: dict[str, float] = {}
    loads: list[float] = []
    env = voila_env(os.environ, provider="simulated", cache_dir=cache)
    servers = {c: VoilaServer(ROOT / "notebooks", env=env, **CONFIGS[c]) for c in configs}
    try:
        for server in servers.values():
            server.start(timeout=120)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True, viewport={"width": 1280, "height": 900})
            wait_idle(list(servers.values()))  # the pools pre-ran their notebooks
            for round_ in range(args.repeat + 1):  # round 0 warms the cache (and refills the pools on a warm one)
                for config, server in servers.items():
                    for name, notebook, charts in pages:
                        wait_idle(list(servers.values()))
                        loads.append(os.getloadavg()[0])
                        page = browser.new_page()
                        urls: list[str] = []
                        page.on("request", lambda r, urls=urls: urls.append(r.url))
                        try:
                            seconds = load(page, server.url(notebook), charts=charts)
                        except Exception as exc:
                            raise RuntimeError(f"{config} {name}: not usable") from exc
                        page.close(run_before_unload=True)
                        if round_:
                            times[config, name].append(seconds)
                            fetches[config, name].append(sum(u.split("?")[0].endswith(PLOTLY_ASSET) for u in urls))
            wait_idle(list(servers.values()))
            idle_rss = {c: rss_mb(s) for c, s in servers.items()}
            browser.close()
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)
    base = configs[-1]
    header = ["dashboard", *(f"{c} (s)" for c in configs), *(f"{base} / {c}" for c in configs[:-1]), "issue 23 (s)",
              "plotly script fetches/page"]  # fmt: skip
    rows = []
    for name, _, _ in pages:
        now = {c: median(times[c, name]) for c in configs}
        before = BEFORE.get(name)
        rows.append([name, *(f"{now[c]:.1f}" for c in configs), *(fmt_ratio(now[base], now[c]) for c in configs[:-1]),
                     f"{before:.1f}" if before else "–", str(max((max(fetches[c, name], default=0) for c in configs)))])  # fmt: skip
    print(f"Dashboards under Voila, warm cache, median of {args.repeat} loads (s to usable); load average at each "
          f"page load {median(loads):.1f} (median; {min(loads):.1f}-{max(loads):.1f}) on {os.cpu_count()} cores")
    print(markdown_table(header, rows))
    print("Idle server with its kernels, after the runs: " + ", ".join(f"{c} {mb:.0f} MB" for c, mb in idle_rss.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
