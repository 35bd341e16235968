"""QualityReportWidget driven without a browser: scores, issue list, chart markers, feedback round trip."""

from __future__ import annotations

import polars as pl
import pytest
import traitlets

from quantdb_lab.ui.widgets.quality import QualityReportWidget
from tests.support.sim import MARKET, at, d, make_lab


@pytest.fixture()
def damaged():
    frame = MARKET.bars("600519.SH", d("2024-01-02"), d("2024-06-28"), now=at("2025-06-06 16:00"))
    spike = frame["date"][40]
    # a bar whose high is below its close (an OHLC error) and a duplicated day
    broken = frame.with_columns(
        pl.when(pl.col("date") == spike).then(pl.col("close") * 0.95).otherwise(pl.col("high")).alias("high")
    )
    return pl.concat([broken, broken[10:11]]), spike


def test_widget_shows_scores_issues_and_marks(tmp_path, damaged):
    frame, spike = damaged
    lab, _, _ = make_lab(tmp_path)
    widget = QualityReportWidget(lab, frame)
    assert widget.symbol == "600519.SH"
    issues = widget.issues_of("600519.SH")
    assert set(issues["check"]) >= {"ohlc_invariant", "duplicate_date"}
    assert "600519.SH" in widget.scores_html.value and len(widget.issue_box.options) == issues.height
    marks = widget.markers()
    assert spike in marks["date"].to_list()
    names = [trace.name for trace in widget.figure.data]
    assert names[:2] == ["close", "volume"] and "error" in names
    with pytest.raises(traitlets.TraitError):
        widget.issue = issues.height
    with pytest.raises(traitlets.TraitError):
        widget.symbol = "000001.SZ"


def test_rejecting_an_issue_is_stored_and_respected(tmp_path, damaged):
    frame, spike = damaged
    lab, _, _ = make_lab(tmp_path)
    widget = QualityReportWidget(lab, frame)
    before = widget.report.score.overall
    row = next(i for i, r in enumerate(widget.issues_of("600519.SH").iter_rows(named=True)) if r["check"] == "ohlc_invariant")
    widget.issue = row
    assert not widget.false_button.disabled
    widget.false_button.click()
    log = lab.feedback_log()
    assert log.height == 1 and log.row(0, named=True)["date"] == spike
    assert log["verdict"][0] == "false_positive"
    after = widget.report.issues.filter(pl.col("check") == "ohlc_invariant")
    assert after["status"].to_list() == ["false_positive"] and widget.report.score.overall > before
    assert "marked false positive" in widget.message
    # a fresh report through the Lab respects the decision too
    assert lab.quality(frame).issues.filter(pl.col("check") == "ohlc_invariant")["status"][0] == "false_positive"


def test_widget_without_lab_is_read_only(tmp_path, damaged):
    frame, _ = damaged
    lab, _, _ = make_lab(tmp_path)
    widget = QualityReportWidget(report=lab.quality(frame))
    widget.issue = 0
    assert widget.false_button.disabled
    widget.mark("confirmed")
    assert widget.message == "select an issue first"
