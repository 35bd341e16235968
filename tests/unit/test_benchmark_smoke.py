"""The benchmark helpers and scenarios still run: tiny sizes, no latency, no QuantDB (benchmarks/ holds the real
runs; nothing here is timed against a threshold)."""

from __future__ import annotations

import sys
import warnings
from datetime import date, datetime
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import common
import scenarios


def test_markdown_table_and_formatting():
    table = common.markdown_table(["scenario", "ms"], [["a", common.fmt_ms(0.04321)], ["bb", common.fmt_ms(2811.0)]])
    lines = table.splitlines()
    assert lines[0].startswith("| scenario") and lines[1].startswith("|:-")
    assert "0.043" in lines[2] and "2,811" in lines[3]
    assert common.fmt_ratio(264.0, 10.0) == "26x" and common.fmt_ratio(None, 1.0) == "n/a"
    assert common.median([3.0, 1.0, 2.0]) == 2.0


def test_shifted_clock_keeps_the_pinned_date_and_moves():
    start = datetime(2024, 6, 7, 16, 0, tzinfo=common.EXCHANGE_TZ)
    clock = common.ShiftedClock(start)
    first = clock.now()
    assert first.date() == date(2024, 6, 7) and first >= start
    assert clock.now() >= first
    clock.jump(datetime(2024, 6, 8, 10, 0, tzinfo=common.EXCHANGE_TZ))
    assert clock.now().date() == date(2024, 6, 8)


def test_reference_friday_is_a_past_friday_session():
    friday = common.reference_friday(date(2024, 6, 12))
    assert friday == date(2024, 6, 7)


@pytest.mark.slow
def test_scenarios_run_against_quantdb_lab_with_the_expected_call_counts(tmp_path):
    import quantdb_lab
    from quantdb_lab.throttle.policy import RateLimit

    today = date(2024, 6, 7)
    clock = common.ShiftedClock(common.evening(today))
    market = common.make_market(seed=7, n_stocks=60, clock=clock)
    upstream = common.make_upstream(market, clock=clock, latency=0.0)
    pool = common.pick_symbols(market, listed_before=date(2015, 1, 1), count=6)
    spec = {
        "dates": {"today": today.isoformat(), "year_ago": "2023-06-07", "five_years_ago": "2019-06-17",
                  "week_ago": "2024-05-31", "saturday": "2024-06-08"},
        "symbols": {"cold_raw": pool[:1], "cold_qfq": pool[1:2], "five_years": pool[2:3], "batch": pool[3:5],
                    "extend": pool[5:6]},
    }
    reps = {"warm": 2, "batch_warm": 1, "weekend": 2}
    with upstream.patch(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = quantdb_lab.Lab(tmp_path, provider="akshare", clock=clock,
                              limits={"eastmoney_push2his": RateLimit(per_second=1e9, burst=10**9)})
        sys_ = __import__("bench_core").OursSystem(lab)
        out = scenarios.run_scenarios(sys_, upstream, clock, spec, reps, log=lambda _: None)
    assert out["cold_1y_raw"].hist == [1]
    assert out["cold_1y_qfq"].hist == [1]  # the unadjusted bars alone
    assert set(out["warm_1y_raw"].hist) == {0}
    assert out["cold_batch"].hist == [2] and set(out["warm_batch"].hist) == {0}
    assert out["extend"].hist == [1] and 0 < out["extend"].rows[0] <= 5
    assert set(out["weekend"].hist) == {0}
