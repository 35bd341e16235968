"""The one chart style on the widgets' figures: rise/fall colours, volume under price, titled axes, percentages."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from quantdb_lab.config import CHART_LANGUAGE_ENV, COLOUR_CONVENTION_ENV
from quantdb_lab.ui import chart_style as style
from quantdb_lab.ui.widgets import AskWidget, GapSynthesisWidget, PortfolioFetchWidget, QualityReportWidget
from quantdb_lab.ui.widgets.portfolio import candle_chart, performance_chart
from tests.support.sim import d, make_lab

RED, GREEN = "#e03c31", "#1a9850"  # written out here, not read from the module under test


@pytest.fixture
def fetched(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    widget = PortfolioFetchWidget(lab, symbols="600519 0.5\n000001 0.5", start=date(2024, 1, 2), end=date(2024, 3, 29))
    widget.adjust_box.value = ""
    widget.fetch()
    return lab, widget


def _title(axis) -> str:
    return axis.title.text or ""


def test_candles_rise_red_fall_green_over_a_volume_panel_with_titled_axes(fetched):
    _, widget = fetched
    fig = widget.candle_figure
    frame = widget.result.frames["600519.SH"]
    candles, volume = fig.data
    assert candles.type == "candlestick" and candles.increasing.line.color == RED
    assert candles.decreasing.line.color == GREEN
    assert volume.type == "bar" and volume.yaxis == "y2" and list(volume.y) == frame["volume"].to_list()
    expected = [RED if c >= o else GREEN for o, c in zip(frame["open"], frame["close"], strict=True)]
    assert list(volume.marker.color) == expected and RED in expected and GREEN in expected
    assert fig.layout.yaxis2.domain[1] < fig.layout.yaxis.domain[0]  # the volume panel is under the price
    assert _title(fig.layout.yaxis) == "Price 价格 (CNY)"
    assert _title(fig.layout.yaxis2) == "Volume 成交量 (shares)"
    assert _title(fig.layout.xaxis2) == "Date 日期"
    assert "Noto Sans CJK SC" in fig.layout.font.family


def test_the_other_convention_is_one_setting_away(fetched, monkeypatch):
    _, widget = fetched
    monkeypatch.setenv(COLOUR_CONVENTION_ENV, "green-up")
    fig = candle_chart(widget.result, "600519.SH")
    assert fig.data[0].increasing.line.color == GREEN and fig.data[0].decreasing.line.color == RED
    monkeypatch.setenv(COLOUR_CONVENTION_ENV, "blue-up")
    with pytest.raises(ValueError, match=COLOUR_CONVENTION_ENV):
        candle_chart(widget.result, "600519.SH")


def test_performance_is_a_cumulative_return_shown_as_a_percentage(fetched):
    _, widget = fetched
    fig = performance_chart(widget.result)
    assert fig.layout.yaxis.tickformat.endswith("%") and "%" in _title(fig.layout.yaxis)
    member = next(t for t in fig.data if t.name == "600519.SH")
    closes = widget.result.frames["600519.SH"]["close"].to_list()
    assert list(member.y) == pytest.approx([c / closes[0] - 1 for c in closes])  # a fraction, formatted by the axis


def test_real_synthetic_and_flagged_data_have_one_colour_each(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2023-10-09", end="2024-06-28", adjust="")
    gaps = GapSynthesisWidget(lab, frame=frame.filter(pl.col("date") != d("2024-03-05")))
    gaps.fill()
    by_name = {t.name: t for t in gaps.figure.data}
    colours = style.palette()
    assert by_name["real close"].line.color == colours.real
    assert by_name["synthetic close"].marker.color == colours.synthetic
    assert by_name["90% band"].fillcolor == colours.band
    quality = QualityReportWidget(lab, pl.concat([frame, frame[10:11]]))
    marks = [t for t in quality.figure.data if t.type == "scatter" and t.mode == "markers"]
    assert marks and {t.marker.color for t in marks} == {colours.flagged}
    assert [t.name for t in quality.figure.data][:2] == ["close", "volume"]
    assert quality.figure.data[1].yaxis == "y2" and _title(quality.figure.layout.yaxis2) == "Volume 成交量 (shares)"
    assert len({colours.real, colours.synthetic, colours.flagged, colours.up, colours.down}) == 5


def test_an_answer_chart_is_restyled_rises_in_red(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    widget = AskWidget(lab)
    answer = widget.submit("Show me the top 10 performing stocks in the tech sector over the last month")
    assert answer is not None and answer.ok
    bars = widget.chart.data[0]
    expected = [RED if v > 0 else GREEN if v < 0 else style.palette().neutral for v in bars.x]
    assert list(bars.marker.color) == expected
    assert "%" in _title(widget.chart.layout.xaxis)
    assert "Noto Sans CJK SC" in widget.chart.layout.font.family


def test_labels_in_both_languages_or_one(monkeypatch):
    assert style.label("return") == "Return 收益率 (%)"
    monkeypatch.setenv(CHART_LANGUAGE_ENV, "zh")
    assert style.label("price") == "价格 (CNY)"
    monkeypatch.setenv(CHART_LANGUAGE_ENV, "en")
    assert style.label("volume") == "Volume (shares)"
    monkeypatch.setenv(CHART_LANGUAGE_ENV, "fr")
    with pytest.raises(ValueError, match=CHART_LANGUAGE_ENV):
        style.label("price")
