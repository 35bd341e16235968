"""Feedback: plain-JSON storage, decisions applied to later reports, thresholds widened per security."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from quantdb_lab.errors import InvalidRequestError, StoreError
from quantdb_lab.quality import adapt_thresholds, check_quality, decisions_frame
from quantdb_lab.store.feedback import FeedbackStore
from tests.unit.test_quality_checks import FLOAT, bars, set_row, wave


def test_store_is_plain_json_and_later_decisions_win(tmp_path):
    store = FeedbackStore(tmp_path)
    assert store.read() == []
    store.record("600000.SH", "volume_spike", date(2024, 3, 5), "false_positive", note="earnings day")
    store.record("600000.SH", "volume_spike", date(2024, 3, 5), "confirmed")
    data = json.loads((tmp_path / "feedback" / "quality.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and [d["verdict"] for d in data["decisions"]] == ["false_positive", "confirmed"]
    assert data["decisions"][0] | {"at": None} == {"symbol": "600000.SH", "check": "volume_spike", "date": "2024-03-05",
                                                   "verdict": "false_positive", "note": "earnings day", "at": None}
    frame = decisions_frame(store.read())
    assert frame.height == 1 and frame["verdict"][0] == "confirmed"
    assert store.forget("600000.SH", "volume_spike", date(2024, 3, 5)) == 2 and store.read() == []
    with pytest.raises(InvalidRequestError):
        store.record("600000.SH", "x", None, "maybe")
    (tmp_path / "feedback" / "quality.json").write_text("not json", encoding="utf-8")
    with pytest.raises(StoreError):
        store.read()


def spiky() -> pl.DataFrame:
    frame = bars(wave(80))
    for i in (30, 50, 70):  # three 15x volume days
        frame = set_row(frame, i, volume=frame["volume"][i] * 15, amount=frame["amount"][i] * 15,
                        turnover=frame["volume"][i] * 15 / FLOAT)  # fmt: skip
    return frame


def test_decisions_mark_issues_and_lift_the_score():
    frame = set_row(spiky(), 40, high=1.0)  # an OHLC error too
    day = frame["date"][40]
    before = check_quality(frame)
    decided = check_quality(frame, decisions=[{"symbol": "600000.SH", "check": "ohlc_invariant", "date": day,
                                               "verdict": "false_positive"}])  # fmt: skip
    status = decided.issues.filter(pl.col("check") == "ohlc_invariant")["status"].to_list()
    assert status == ["false_positive"] and decided.score.overall == 1.0 > before.score.overall
    confirmed = check_quality(frame, decisions=[{"symbol": "600000.SH", "check": "ohlc_invariant", "date": None,
                                                 "verdict": "confirmed"}])  # fmt: skip
    assert confirmed.issues.filter(pl.col("check") == "ohlc_invariant")["status"].to_list() == ["confirmed"]
    assert confirmed.score.overall == before.score.overall


def test_thresholds_widen_where_feedback_shows_a_check_too_tight():
    frame = spiky()
    days = frame["date"].to_list()
    spikes = check_quality(frame).issues.filter(pl.col("check") == "volume_spike")["date"].to_list()
    assert spikes == [days[30], days[50], days[70]]
    one = [{"symbol": "600000.SH", "check": "volume_spike", "date": days[30], "verdict": "false_positive"}]
    assert adapt_thresholds(decisions_frame(one)) == {}  # one decision is not a pattern
    two = one + [{"symbol": "600000.SH", "check": "volume_spike", "date": days[50], "verdict": "false_positive"}]
    assert adapt_thresholds(decisions_frame(two)) == {("600000.SH", "volume_spike"): 1.5}
    report = check_quality(frame, decisions=two)  # threshold 10 x 1.5 = 15 > ~14.5 (15x over a level ~1.06x the base): none is a spike any more
    assert report.issues.filter(pl.col("check") == "volume_spike").height == 0
    other = frame.with_columns(pl.lit("600004.SH").alias("symbol"))  # another security keeps the default
    both = check_quality(pl.concat([frame, other]), decisions=two)
    assert both.issues.filter((pl.col("check") == "volume_spike") & (pl.col("symbol") == "600004.SH")).height == 3
    undo = two + [{"symbol": "600000.SH", "check": "volume_spike", "date": days[70], "verdict": "confirmed"}]
    assert adapt_thresholds(decisions_frame(undo)) == {}  # 2 false positives vs 1 confirmed: net 1, not more


def test_lab_feedback_round_trip(tmp_path):
    from tests.support.sim import make_lab

    lab, _, _ = make_lab(tmp_path)
    frame = set_row(bars(wave(40)), 12, high=1.0)
    day = frame["date"][12]
    assert lab.quality(frame).issues.filter(pl.col("check") == "ohlc_invariant")["status"].to_list() == ["open"]
    log = lab.feedback("600000", "ohlc_invariant", day.isoformat(), verdict="false_positive", note="checked")
    assert log.row(0, named=True) == {"symbol": "600000.SH", "date": day, "check": "ohlc_invariant",
                                      "verdict": "false_positive", "note": "checked"}  # fmt: skip
    assert lab.quality(frame).issues.filter(pl.col("check") == "ohlc_invariant")["status"].to_list() == ["false_positive"]
