"""What the browser tests do on a Voila page: wait for it, read it, and perform a dashboard's interaction."""

from __future__ import annotations

import re
import time

from quantdb_lab.ui.dashboards import Interaction

RENDERED = "#rendered_cells"
WIDGETS = ".jupyter-widgets"
PLOTS = ".js-plotly-plot"
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'


def open_dashboard(page, url: str, *, timeout: float = 60.0) -> None:
    """Load ``url`` and wait until every cell ran and the widgets are drawn."""
    page.goto(url, timeout=timeout * 1000, wait_until="load")
    page.wait_for_function(
        "() => { const c = document.querySelector('#rendered_cells');"
        " return c && getComputedStyle(c).display !== 'none'; }",
        timeout=timeout * 1000,
    )


def wait_for_widgets(page, *, plots: bool = True, timeout: float = 30.0) -> None:
    page.locator(f"{RENDERED} {WIDGETS}").first.wait_for(state="visible", timeout=timeout * 1000)
    if plots:
        page.locator(f"{RENDERED} {PLOTS}").first.wait_for(state="visible", timeout=timeout * 1000)


def shown_text(page) -> str:
    """Everything a person reads in the dashboard, with input values (text boxes are not innerText)."""
    return page.evaluate(
        "() => { const c = document.querySelector('#rendered_cells');"
        " const values = [...c.querySelectorAll('input, textarea')].map(e => e.value);"
        " return c.innerText + '\\n' + values.join('\\n'); }"
    )


def text_box(page, label: str):
    """The text box whose label or placeholder matches ``label``."""
    pattern = re.compile(label, re.IGNORECASE)
    for kind in (".widget-textarea", ".widget-text"):
        boxes = page.locator(f"{RENDERED} {kind}")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            field = box.locator("input, textarea").first
            if pattern.search(box.inner_text() or "") or pattern.search(field.get_attribute("placeholder") or ""):
                return field
    raise AssertionError(f"no text box labelled {label!r}")


def choose_first(page, label: str) -> None:
    """Pick the first option of the list or dropdown labelled ``label`` (an ipywidgets Select or Dropdown)."""
    pattern = re.compile(label, re.IGNORECASE)
    boxes = page.locator(f"{RENDERED} .widget-select, {RENDERED} .widget-dropdown")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if pattern.search(box.locator("label").first.inner_text() if box.locator("label").count() else ""):
            select = box.locator("select").first
            select.locator("option").first.wait_for(state="attached")
            select.select_option(index=0)
            return
    raise AssertionError(f"no list labelled {label!r}")


def button(page, name: str):
    found = page.locator(f"{RENDERED} button").filter(has_text=re.compile(name, re.IGNORECASE))
    assert found.count() > 0, f"no button matching {name!r}"
    return found.first


def perform(page, interaction: Interaction, *, timeout: float = 30.0) -> float:
    """Fill, click, and wait until the shown text changes; returns the seconds from the click to the change."""
    if interaction.fill:
        label, text = interaction.fill
        text_box(page, label).fill(text)
    if interaction.select:
        choose_first(page, interaction.select)
    before = shown_text(page)
    target = button(page, interaction.click)
    target.wait_for(state="visible")
    clicked = time.monotonic()
    target.click()
    expected = re.compile(interaction.expect) if interaction.expect else None
    deadline = clicked + timeout
    while time.monotonic() < deadline:
        now = shown_text(page)
        if now != before and (expected is None or expected.search(now)):
            return time.monotonic() - clicked
        page.wait_for_timeout(50)
    wanted = f" to match {interaction.expect!r}" if expected else ""
    raise AssertionError(f"clicking {interaction.click!r} changed nothing shown{wanted} within {timeout:.0f} s")


def stderr_outputs(page) -> list[str]:
    return page.locator(f"{RENDERED} {STDERR}").all_inner_texts()


def plots(page, scope=None) -> list[dict]:
    """What each plotly chart on the page (or inside the locator ``scope``) draws now: its title and, per trace,
    type, name and x values (read from the graph divs plotly draws into, so from the browser, not the kernel)."""
    found = scope.locator(PLOTS) if scope is not None else page.locator(f"{RENDERED} {PLOTS}")
    return found.evaluate_all(
        """els => els.map(d => ({
            title: (d.layout && d.layout.title && (d.layout.title.text ?? d.layout.title)) || '',
            traces: (d.data || []).map(t => ({type: t.type || 'scatter', name: t.name || '',
                                               x: Array.from(t.x || []).map(v => v === null ? null : String(v))})),
        }))"""
    )


def wait_for_plot(page, predicate, *, timeout: float = 60.0, what: str = "a chart", scope=None) -> dict:
    """The first chart for which ``predicate(chart)`` holds, waiting up to ``timeout`` seconds for it."""
    deadline = time.monotonic() + timeout
    seen: list[dict] = []
    while time.monotonic() < deadline:
        seen = plots(page, scope)
        for chart in seen:
            if predicate(chart):
                return chart
        page.wait_for_timeout(100)
    titles = [c["title"] for c in seen]
    raise AssertionError(f"no chart showed {what} within {timeout:.0f} s; charts shown: {titles}")
