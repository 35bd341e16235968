"""PortfolioFetchWidget without a browser: set controls, click, inspect state."""

from __future__ import annotations

from datetime import date

import pytest
import traitlets

from quantdb_lab.ui.widgets import PortfolioFetchWidget
from tests.support.sim import MARKET, at, d, make_lab

NOW = "2025-06-06 16:00"


@pytest.fixture
def setup(tmp_path):
    lab, provider, _ = make_lab(tmp_path, now=NOW)
    widget = PortfolioFetchWidget(lab, start=date(2024, 1, 1), end=date(2024, 6, 28))
    return widget, provider


def truth(symbol: str):
    return MARKET.bars(symbol, d("2024-01-01"), d("2024-06-28"), now=at(NOW))


def test_click_fetches_and_renders(setup):
    widget, _ = setup
    widget.symbols_box.value = "600519 0.6\n000001, 0.4"
    widget.adjust_box.value = ""
    events = []
    widget.counts.observe(lambda change: events.append(change["new"]), names="value")
    widget.fetch_button.click()
    assert widget.state == "done" and widget.message == ""
    assert widget.symbols == ["600519.SH", "000001.SZ"] and widget.weights == {"600519.SH": 0.6, "000001.SZ": 0.4}
    assert (widget.progress.max, widget.progress.value) == (2, 2)
    assert events[-1] == "2/2: 0 cached, 2 fetched, 0 failed"
    assert "600519.SH" in widget.summary.value and "fetched" in widget.summary.value
    names = [trace.name for trace in widget.performance_figure.data]
    assert names == ["portfolio", "600519.SH", "000001.SZ"]
    assert widget.performance_figure.layout.width == 900
    # candlesticks of the first member, equal to the market's own bars (unadjusted)
    candle = widget.candle_figure.data[0]
    expected = truth("600519.SH")
    assert widget.selected == "600519.SH" and len(candle.x) == expected.height
    assert list(candle.close) == expected["close"].to_list()
    widget.member_box.value = "000001.SZ"
    assert widget.selected == "000001.SZ"
    assert list(widget.candle_figure.data[0].close) == truth("000001.SZ")["close"].to_list()


def test_a_refetch_with_the_same_first_member_still_shows_its_candles(setup):
    widget, _ = setup
    widget.adjust_box.value = ""
    widget.symbols_box.value = "600519 0.3\n000001 0.7"
    widget.fetch()
    widget.symbols_box.value = "600519 0.5\n000001.SZ 0.5"
    widget.fetch()
    assert widget.selected == widget.member_box.value == "600519.SH"
    assert list(widget.candle_figure.data[0].close) == truth("600519.SH")["close"].to_list()


def test_second_click_is_served_from_cache(setup):
    widget, provider = setup
    widget.symbols_box.value = "600519, 000001 300750"
    widget.fetch()
    calls = provider.calls["fetch_daily_bars"]
    widget.fetch_button.click()
    assert provider.calls["fetch_daily_bars"] == calls
    assert widget.counts.value.startswith("3/3: 3 cached")


def test_failures_are_shown_and_the_state_says_so(setup):
    widget, provider = setup
    provider.faults.permanent_symbols = {"000001.SZ"}
    widget.symbols_box.value = "600519 000001"
    result = widget.fetch()
    assert result.failed == ["000001.SZ"] and widget.state == "done"
    assert widget.progress.bar_style == "warning"
    assert "permanent refusal" in widget.summary.value
    assert widget.member_box.options == ("600519.SH",)


@pytest.mark.parametrize(
    ("text", "start", "end", "message"),
    [
        ("600519", date(2024, 6, 1), date(2024, 1, 1), "start 2024-06-01 is after end 2024-01-01"),
        ("zzz", date(2024, 1, 1), None, "unrecognised symbol"),
        ("", date(2024, 1, 1), None, "no symbols given"),
    ],
)
def test_invalid_input_is_reported_without_fetching(setup, text, start, end, message):
    widget, provider = setup
    widget.symbols_box.value = text
    widget.start_picker.value, widget.end_picker.value = start, end
    assert widget.fetch() is None
    assert widget.state == "error" and message in widget.message
    assert provider.calls["fetch_daily_bars"] == 0


def test_traits_are_validated(setup):
    widget, _ = setup
    with pytest.raises(traitlets.TraitError):
        widget.adjust = "forward"
    with pytest.raises(traitlets.TraitError):
        widget.mode = "gambling"
    with pytest.raises(traitlets.TraitError):
        widget.selected = "600519.SH"  # nothing fetched yet
    with pytest.raises(traitlets.TraitError):
        widget.state = "sleeping"
    widget.end = date(2024, 1, 31)
    with pytest.raises(traitlets.TraitError):
        widget.start = date(2024, 2, 1)


def test_mode_dropdown_switches_the_labs_mode(setup):
    widget, _ = setup
    widget.symbols_box.value = "600519"
    widget.mode_box.value = "backtesting"
    widget.adjust_box.value = "hfq"
    result = widget.fetch()
    assert widget.mode == "backtesting" and result.provenance["600519.SH"].adjust == "hfq"
    assert widget.lab.mode.name == "research"  # the Lab given is unchanged
