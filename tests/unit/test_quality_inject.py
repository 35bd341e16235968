"""The fault injector used by benchmarks/bench_quality.py: what it writes and what it says it wrote."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from quantdb_lab.quality import check_quality
from quantdb_lab.quality.inject import inject_faults

FLOAT = 1_000_000_000.0


def series(n: int, *, symbol: str = "600000.SH", daily: float = 0.01, seed: int = 0,
           start: date = date(2024, 1, 2)) -> pl.DataFrame:  # fmt: skip
    """``n`` consistent bars on weekdays: ``daily`` log-return noise, prices to the cent, change from the close."""
    rng = np.random.default_rng(seed)
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    rows, prev = [], 10.0
    for i, day in enumerate(days):
        close = round(prev * float(np.exp(np.clip(rng.normal(0, daily), -3 * daily, 3 * daily))), 2)
        shares = 5e6 * (1 + 0.05 * (i % 7))
        rows.append({"symbol": symbol, "date": day, "open": prev, "high": max(prev, close) + 0.01,
                     "low": min(prev, close) - 0.01, "close": close, "volume": shares, "amount": shares * close,
                     "turnover": shares / FLOAT, "pct_change": round((close - prev) / prev, 4),
                     "change": round(close - prev, 2)})
        prev = close
    return pl.DataFrame(rows)


def test_ex_rights_event_rescales_later_rows_exactly():
    frame = series(160)
    damaged, truth = inject_faults(frame, kinds=["corporate_action"], per_kind=1, seed=4)
    event = truth.filter(pl.col("expect") == "corporate_action")["date"].to_list()
    assert len(event) == 1
    at = frame["date"].to_list().index(event[0])
    ratio = (damaged["close"] / frame["close"]).to_numpy()
    assert np.all(ratio[:at] == 1.0)
    factor = ratio[at]
    assert min(abs(factor - f) for f in (0.5, 1 / 1.3, 0.97)) < 1e-12
    np.testing.assert_allclose(ratio[at:], factor, rtol=1e-12)  # one factor, no second rounding
    # the event row reports the exchange's ex-rights reference: the previous close x factor, to the cent
    ex_ref = damaged["close"][at] - damaged["change"][at]
    assert abs(ex_ref - round(frame["close"][at - 1] * factor, 2)) < 1e-9
    report = check_quality(damaged)
    assert report.issues.filter(pl.col("check") == "corporate_action")["date"].to_list() == event
    assert report.issues.filter(pl.col("check").is_in(["pct_change_mismatch", "change_mismatch"])).is_empty()


def test_return_outliers_are_injected_labelled_and_found():
    frame = series(200, daily=0.002)  # calm: a 10-sigma spike (~2 %) stays far inside the 10 % limit
    damaged, truth = inject_faults(frame, kinds=["return_outlier"], per_kind=3, seed=1)
    spikes = truth.filter(pl.col("expect") == "return_outlier")
    assert spikes.height == 3 and set(spikes["kind"]) == {"return_outlier"}
    flagged = check_quality(damaged).issues.filter(pl.col("check") == "return_outlier")["date"].to_list()
    assert sorted(spikes["date"].to_list()) == flagged


def test_injection_is_reproducible():
    frame = pl.concat([series(120, symbol=s, seed=k) for k, s in enumerate(["600000.SH", "600004.SH", "600006.SH",
                                                                            "600007.SH"])])  # fmt: skip
    one = inject_faults(frame, kinds=["foreign_row", "volume_outlier"], per_kind=3, seed=9)
    two = inject_faults(frame, kinds=["foreign_row", "volume_outlier"], per_kind=3, seed=9)
    assert one[0].equals(two[0]) and one[1].equals(two[1])
