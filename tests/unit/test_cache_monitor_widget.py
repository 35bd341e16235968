"""The cache monitor's logic without a browser: the report helpers and the widget driven by its methods."""

from __future__ import annotations

from datetime import datetime

import pytest

from quantdb_lab.ui import cache_report
from quantdb_lab.ui.dashboard_lab import dashboard_lab, provider_name

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

from quantdb_lab.ui.widgets.cache_monitor import HISTORY, CacheMonitorWidget

NOON = datetime(2025, 6, 6, 12, 0, 0)


def test_human_bytes_and_percent():
    assert [cache_report.human_bytes(n) for n in (0, 1023, 2048, 5 * 2**20)] == ["0 B", "1023 B", "2.0 KB", "5.0 MB"]
    assert cache_report.percent(None) == "n/a" and cache_report.percent(0.25) == "25%"


def test_summary_reports_the_worst_breaker_and_all_kernels_calls():
    stats = {"mode": "research", "provider": "simulated", "series": 0, "rows_on_disk": 0, "bytes_on_disk": 0,
             "hits": 0, "misses": 0, "hit_rate": None, "upstream_calls_total": 0,
             "throttle": [{"breaker": "closed", "calls": 3}, {"breaker": "open", "calls": 2}]}  # fmt: skip
    head = cache_report.summary(stats)
    assert head["breaker"] == "open" and head["upstream_calls_all_kernels"] == 5


def test_html_table_escapes_and_says_when_empty():
    assert "nothing here" in cache_report.html_table([], empty="nothing here")
    assert "&lt;b&gt;" in cache_report.html_table([{"x": "<b>"}])


def test_dashboards_default_to_the_simulated_market_unless_configured(monkeypatch):
    monkeypatch.delenv("QUANTDB_LAB_PROVIDER", raising=False)
    assert provider_name() == "simulated"
    monkeypatch.setenv("QUANTDB_LAB_PROVIDER", "akshare")
    assert provider_name() == "akshare" and provider_name("replay:x") == "replay:x"


@pytest.fixture
def monitor(tmp_path):
    lab = dashboard_lab("simulated", tmp_path)
    return CacheMonitorWidget(lab, start="2024-01-02", end="2024-03-29", clock=lambda: NOON)


def test_an_empty_cache_is_shown_as_such(monitor):
    assert "series cached:</b> <span>0</span>" in monitor.summary.value
    assert "the cache is empty" in monitor.datasets.value and "refreshed at 12:00:00" in monitor.summary.value


def test_fetch_shows_hits_misses_sizes_calls_and_recent_fetches(monitor):
    monitor.fetch("600519, 000001.SZ")
    monitor.fetch("600519")
    assert monitor.state == "idle" and monitor.progress.value == monitor.progress.max == 1
    summary = monitor.summary.value
    assert "series cached:</b> <span>2</span>" in summary and "33% (1 hits, 2 misses)" in summary
    assert [p.symbol for p in monitor.history] == ["600519.SH", "000001.SZ", "600519.SH"]
    assert monitor.recent.value.index("<td>cache</td>") < monitor.recent.value.index("<td>upstream</td>")  # newest first
    assert list(monitor.figure.data[0].x) == ["bars"] and all(y > 0 for y in monitor.figure.data[0].y)
    assert sum(monitor.figure.data[1].y) == 2 and "closed" in monitor.throttle_table.value


def test_refresh_shows_what_another_lab_fetched_into_the_same_cache(monitor, tmp_path):
    other = dashboard_lab("simulated", tmp_path)
    other.bars("300750", start="2024-01-02", end="2024-01-31")
    assert monitor.stats["series"] == 0
    monitor.refresh_button.click()
    assert monitor.stats["series"] == 1 and "series cached:</b> <span>1</span>" in monitor.summary.value


def test_bad_input_is_reported_not_raised_and_history_is_bounded(monitor):
    assert monitor.fetch("   ") == [] and "type one or more symbols" in monitor.notice.value
    monitor.fetch("NOT-A-SYMBOL")
    assert monitor.state == "error" and "InvalidSymbolError" in monitor.notice.value
    with pytest.raises(Exception, match="state must be one of"):
        monitor.state = "sleeping"


def test_recent_fetches_keep_the_last_few(monitor):
    (one,) = monitor.fetch("600519")
    monitor.history = [one] * (HISTORY + 5)
    assert len(monitor.history) == HISTORY
