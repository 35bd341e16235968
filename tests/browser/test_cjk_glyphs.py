"""Chinese labels render with glyphs, not boxes: needs a CJK font (Debian's fonts-noto-cjk, installed by
tests/run.sh and .ci/run). Checked on a chart's own axis title in a dashboard, in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.voila_page import RENDERED, open_dashboard, wait_for_widgets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABEL = "累计收益率"  # the portfolio chart's y-axis title: "Cumulative return 累计收益率 (%)"


def test_a_chinese_axis_title_is_drawn_with_glyphs(voila, new_page):
    page, _log = new_page()
    open_dashboard(page, voila.url("portfolio.ipynb"), timeout=240)
    wait_for_widgets(page, timeout=240)
    title = page.locator(f"{RENDERED} .js-plotly-plot text.ytitle").filter(has_text=LABEL).first
    title.wait_for(state="attached", timeout=30_000)
    measured = title.evaluate(
        """(el, label) => {
            const text = el.textContent, at = text.indexOf(label);
            const size = parseFloat(getComputedStyle(el).fontSize);
            const glyphs = el.getSubStringLength(at, label.length);
            // two different characters drawn apart: boxes are all alike, glyphs are not
            const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
            const ctx = canvas.getContext('2d');
            const draw = ch => { ctx.clearRect(0, 0, 64, 64); ctx.font = `48px ${getComputedStyle(el).fontFamily}`;
                                 ctx.fillText(ch, 4, 52); return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(); };
            return {size, glyphs, distinct: draw(label[0]) !== draw(label[1])};
        }""",
        LABEL,
    )  # fmt: skip
    print(f"{LABEL}: {measured}")
    # a CJK glyph is one em wide (a missing-glyph box is narrower in the fallback fonts)
    assert measured["glyphs"] == pytest.approx(len(LABEL) * measured["size"], rel=0.1), measured
    assert measured["distinct"], "two different Chinese characters are drawn alike (boxes)"
