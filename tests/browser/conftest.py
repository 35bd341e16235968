"""Headless Debian Chromium driven by Playwright, and Voila serving the dashboards on a free 127.0.0.1 port.

Skips cleanly when /usr/bin/chromium or playwright is missing (tests/run.sh installs both). Never downloads a
browser. Every request to anything but 127.0.0.1 is aborted and recorded, so a test can fail on it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from quantdb_lab.ui.dashboards import notebooks_dir
from quantdb_lab.ui.voila_server import VoilaServer, voila_env

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}



def _missing(reason: str) -> None:
    """Skip, except in CI (CI=true), where tests/run.sh installed everything and a skip would hide a gap."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: tests/run.sh should have installed it", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


if not CHROMIUM.exists():
    _missing("Debian chromium is not installed at /usr/bin/chromium")
try:
    from playwright import sync_api
except ImportError:
    _missing("playwright is not installed")
try:
    import voila
except ImportError:
    _missing("voila is not installed")


class PageLog:
    """Console errors, page errors and refused outside requests of one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    profile = tempfile.mkdtemp(prefix="qdb-chromium-")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def new_page(chromium):
    """``page, log = new_page()``: a fresh tab whose outside requests are aborted and logged."""
    pages = []

    def make():
        log = PageLog()
        page = chromium.new_page()

        def route(route):
            url = route.request.url
            host = urlparse(url).hostname
            if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                return route.continue_()
            log.outside.append(url)
            return route.abort()

        page.route("**/*", route)
        log.watch(page)
        pages.append(page)
        return page, log

    yield make
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def dashboard_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dashboard-cache")


@pytest.fixture(scope="session")
def voila(dashboard_cache) -> Iterator[VoilaServer]:
    """One Voila over notebooks/, on the simulated market and a fresh cache, stopped by pid at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    env = voila_env(os.environ, provider="simulated", cache_dir=str(dashboard_cache))
    server = VoilaServer(notebooks_dir(), env=env, log=ARTIFACTS / "voila.log")
    with server:
        yield server


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Voila's body is as tall as the viewport, so full_page alone cuts the page: grow the viewport to the content.
    height = page.evaluate(
        "() => { window.scrollTo(0, 0); const c = document.querySelector('#rendered_cells') || document.body;"
        " const bottoms = [...c.querySelectorAll('*')].map(e => e.getBoundingClientRect().bottom);"
        " return Math.ceil(Math.max(document.body.scrollHeight, ...bottoms)) + 24; }"
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(height, 600), 4000)})
    page.screenshot(path=str(path), full_page=True)
    return path
