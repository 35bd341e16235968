"""Widget sync that cannot go stale: after each interaction the chart the browser draws matches the answer the
page shows next to it (title and data), for ask, portfolio and gaps. Read from plotly's graph divs in Chromium."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.voila_page import button, open_dashboard, plots, shown_text, text_box, wait_for_plot, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RENDERED = "#rendered_cells"
LOAD = 240  # s: the shared machine can be slow; load times are the benchmark's business, not these tests


def _plan_of(page) -> str:
    """The plan the ask widget shows: 'Plan (rules): <describe>'."""
    found = re.search(r"Plan \([^)]*\): (.+)", shown_text(page))
    return found.group(1).strip() if found else ""


def test_the_ask_chart_follows_each_answer(voila, new_page):
    page, log = new_page()
    open_dashboard(page, voila.url("ask.ipynb"), timeout=LOAD)
    wait_for_widgets(page, timeout=LOAD)
    for question in ("How did 600519 do in 2024?", "最近一个月半导体板块涨幅前十"):
        before = _plan_of(page)
        text_box(page, "Ask about").fill(question)
        button(page, "^Ask$").click()
        page.wait_for_function(
            "([sel, old]) => { const m = document.querySelector(sel).innerText.match(/Plan \\([^)]*\\): (.+)/);"
            " return m && m[1].trim() !== old; }", arg=[RENDERED, before], timeout=LOAD * 1000,
        )  # fmt: skip
        plan = _plan_of(page)
        chart = wait_for_plot(page, lambda c, plan=plan: c["title"] == plan, what=f"the title {plan!r}")
        assert chart["traces"] and all(t["x"] for t in chart["traces"]), "the answer's chart has no data"
    assert log.errors == [], f"JavaScript console errors: {log.errors}"


def test_the_portfolio_charts_follow_the_fetch_and_the_member_picked(voila, new_page):
    page, log = new_page()
    open_dashboard(page, voila.url("portfolio.ipynb"), timeout=LOAD)
    wait_for_widgets(page, timeout=LOAD)
    text_box(page, "Symbols").fill("600519 0.5\n000001.SZ 0.5")
    button(page, "^Fetch$").click()
    page.wait_for_function("sel => /2\\/2: /.test(document.querySelector(sel).innerText)", arg=RENDERED,
                           timeout=60_000)  # the fetch is done, so the member list is the new one
    performance = wait_for_plot(
        page, lambda c: c["title"].startswith("Cumulative return") and [t["name"] for t in c["traces"]]
        == ["portfolio", "600519.SH", "000001.SZ"], what="the two members' returns",
    )  # fmt: skip
    assert len(performance["traces"][1]["x"]) > 100
    candles = wait_for_plot(page, lambda c: c["title"] == "600519.SH (qfq)", what="600519.SH's candles")
    page.wait_for_timeout(500)  # the kernel finishes rendering the result before the next choice
    kinds = [(t["type"], t["name"]) for t in candles["traces"]]
    assert kinds == [("candlestick", "600519.SH"), ("bar", "volume")]
    rows = len(candles["traces"][0]["x"])
    assert len(candles["traces"][1]["x"]) == rows
    # pick the other member: the candles must follow (the chart once stayed on the previous one)
    picker = page.locator(f"{RENDERED} .widget-dropdown").filter(has_text="Candles").last.locator("select")
    picker.select_option(label="000001.SZ")
    other = wait_for_plot(page, lambda c: c["title"] == "000001.SZ (qfq)", what="000001.SZ's candles")
    assert other["traces"][0]["name"] == "000001.SZ"
    assert not [c for c in plots(page) if c["title"] == "600519.SH (qfq)"], "a stale candle chart is still shown"
    assert log.errors == [], f"JavaScript console errors: {log.errors}"


def test_the_gap_chart_follows_the_fill(voila, new_page):
    page, log = new_page()
    open_dashboard(page, voila.url("gap_synthesis.ipynb"), timeout=LOAD)
    wait_for_widgets(page, timeout=LOAD)
    # the first gap widget: the page showed its fill with sampled paths; Fill redraws the mean fill alone
    widget = page.locator(f"{RENDERED} .jp-OutputArea-output").filter(
        has=page.locator("button", has_text=re.compile("^Fill"))).first
    widget.locator("button", has_text=re.compile("^Fill")).first.click()
    pattern = re.compile(r"filled (\d+) session\(s\) in (\d+) gap\(s\)")
    deadline = time.monotonic() + LOAD
    while not pattern.search(widget.inner_text()) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    sessions, gaps = map(int, pattern.search(widget.inner_text()).groups())

    def matches(chart) -> bool:
        names = [t["name"] for t in chart["traces"]]
        return names[:3] == ["real close", "90% band", "synthetic close"] and not any(n.startswith("sample") for n in names)

    chart = wait_for_plot(page, matches, what="the mean fill without sampled paths", scope=widget)
    band, synthetic = chart["traces"][1], chart["traces"][2]
    assert len(synthetic["x"]) == sessions == 4  # the notebook's simulated outage: four sessions
    polygons = "|".join("" if x is None else "x" for x in band["x"]).split("||")
    assert len([p for p in polygons if p.strip("|")]) == gaps == 2  # one band per gap
    assert log.errors == [], f"JavaScript console errors: {log.errors}"
