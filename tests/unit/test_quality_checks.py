"""Each quality check on hand-built frames whose expected findings are written down, not computed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from quantdb_lab.quality import QualityParams, check_quality
from quantdb_lab.quality.score import compute_scores

FLOAT = 1_000_000_000.0  # free float of the hand-built security, shares


def bars(closes: list[float], *, symbol: str = "600000.SH", start: date = date(2024, 3, 4), volume: float = 5e6,
         first_ref: float | None = None) -> pl.DataFrame:  # fmt: skip
    """Consistent daily bars on consecutive weekdays: change from the previous close, amount = volume x close."""
    days, day = [], start
    while len(days) < len(closes):
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    refs = [first_ref if first_ref is not None else closes[0]] + closes[:-1]
    rows = []
    for i, (day, close, ref) in enumerate(zip(days, closes, refs, strict=True)):
        change = round(close - ref, 2)
        shares = volume * (1 + 0.02 * (i % 7))  # no two days trade exactly alike
        rows.append({"symbol": symbol, "date": day, "open": ref, "high": max(ref, close) + 0.05,
                     "low": min(ref, close) - 0.05, "close": close, "volume": shares, "amount": shares * close,
                     "turnover": shares / FLOAT, "pct_change": round(change / ref, 4), "change": change})
    return pl.DataFrame(rows)


def wave(n: int, base: float = 10.0) -> list[float]:
    """A calm random path: 1 % daily moves (seeded), never near a limit."""
    steps = np.clip(np.random.default_rng(n).normal(0.0, 0.01, n), -0.03, 0.03)
    out, price = [], base
    for step in steps:
        price = round(price * (1 + step), 2)
        out.append(price)
    return out


def found(frame: pl.DataFrame, check: str, **kwargs) -> list[date]:
    report = check_quality(frame, **kwargs)
    return report.issues.filter(pl.col("check") == check)["date"].to_list()


def set_row(frame: pl.DataFrame, i: int, **values: float) -> pl.DataFrame:
    idx = pl.int_range(pl.len()) == i
    return frame.with_columns(pl.when(idx).then(pl.lit(v)).otherwise(pl.col(k)).alias(k) for k, v in values.items())


def test_clean_frame_has_no_issues_and_scores_one():
    report = check_quality(bars(wave(60)))
    assert report.issues.filter(pl.col("severity") != "info").is_empty()
    assert report.score.overall == 1.0 and report.passed


def test_ohlc_invariants_and_positive_prices():
    frame = set_row(bars(wave(40)), 10, high=5.0)  # high far below close
    frame = set_row(frame, 20, low=-0.5)
    days = frame["date"].to_list()
    assert found(frame, "ohlc_invariant") == [days[10]]
    assert found(frame, "nonpositive_price") == [days[20]]


def test_duplicate_dates_identical_and_conflicting():
    frame = bars(wave(30))
    twice = pl.concat([frame, frame[5:6], set_row(frame[8:9], 0, volume=6e6)])
    report = check_quality(twice)
    dupes = report.issues.filter(pl.col("check") == "duplicate_date").sort("date")
    assert dupes["date"].to_list() == [frame["date"][5], frame["date"][8]]
    assert dupes["severity"].to_list() == ["warning", "error"]
    assert report.corrected.height == 30  # one row per date kept


def test_missing_sessions_told_apart_from_suspensions():
    frame = bars(wave(40))
    days = frame["date"].to_list()
    sessions = days
    lost = frame.filter(~pl.col("date").is_in([days[10]]))  # next bar still reports the lost day's close
    assert found(lost, "missing_session", sessions_list=sessions) == [days[10]]
    # a suspension: three sessions without a bar, trading resumes from the close before the gap
    closes = wave(40)
    resumed = bars(closes[:20] + closes[23:], first_ref=None)
    resumed = resumed.with_columns(pl.Series("date", days[:20] + days[23:]))
    resumed = set_row(resumed, 20, change=round(closes[23] - closes[19], 2))
    assert found(resumed, "missing_session", sessions_list=sessions) == []
    assert found(resumed, "suspension", sessions_list=sessions) == days[20:23]
    # a table of suspensions decides when the bars cannot
    table = pl.DataFrame({"symbol": ["600000.SH"], "start": [days[10]], "end": [days[10]]})
    assert found(lost, "suspension", sessions_list=sessions, suspensions=table) == [days[10]]


@pytest.mark.parametrize(
    ("symbol", "move", "flagged"),
    [("600000.SH", 0.105, True), ("600000.SH", 0.099, False), ("300001.SZ", 0.15, False),
     ("300001.SZ", 0.21, True), ("688001.SH", 0.199, False), ("830799.BJ", 0.29, False), ("830799.BJ", 0.33, True)],
)  # fmt: skip
def test_price_limits_by_board(symbol, move, flagged):
    closes = [10.0] * 30
    closes[15] = round(10.0 * (1 + move), 2)
    closes[16:] = [closes[15]] * 14
    frame = bars(closes, symbol=symbol).with_columns(pl.col("high").clip(upper_bound=pl.col("close") + 0.0),
                                                     pl.col("open").clip(upper_bound=pl.col("close")))  # fmt: skip
    assert (found(frame, "price_limit") == [frame["date"][15]]) is flagged


def test_st_limit_and_listing_day():
    closes = [10.0] * 5 + [10.6] * 25  # +6 % on row 5
    frame = bars(closes).with_columns(pl.col("high").clip(upper_bound=pl.col("close")))
    st = pl.DataFrame({"symbol": ["600000.SH"], "list_date": [date(2000, 1, 4)], "is_st": [True]})
    assert found(frame, "price_limit", securities=st) == [frame["date"][5]]
    assert found(frame, "price_limit") == []
    listing = bars([14.4] + [14.4] * 29, first_ref=10.0)  # +44 % on the listing day: no limit
    listed = pl.DataFrame({"symbol": ["600000.SH"], "list_date": [listing["date"][0]], "is_st": [False]})
    assert found(listing, "price_limit", securities=listed) == []


def test_change_mismatch_and_corporate_action():
    closes = wave(40)
    frame = bars(closes)
    wrong = set_row(frame, 12, change=round(frame["change"][12] - 0.8, 2))  # implies a previous close 0.8 higher
    assert found(wrong, "change_mismatch") == [frame["date"][12]]
    # 10-for-10 bonus: price halves, the reported change is against the ex-rights reference
    ex = closes[:20] + [round(c / 2, 2) for c in closes[20:]]
    action = bars(ex)
    ref = round(closes[19] / 2, 2)
    action = set_row(action, 20, change=round(ex[20] - ref, 2), pct_change=round((ex[20] - ref) / ref, 4),
                     open=ref, high=max(ref, ex[20]) + 0.05, low=min(ref, ex[20]) - 0.05)  # fmt: skip
    report = check_quality(action)
    assert report.issues.filter(pl.col("severity") != "info").is_empty()
    assert report.issues.filter(pl.col("check") == "corporate_action")["date"].to_list() == [action["date"][20]]
    # adjustment data that shows no action turns the same break into a mismatch
    factors = action.select("symbol", "date", pl.lit(1.0).alias("factor"))
    assert found(action, "change_mismatch", adjustment=factors) == [action["date"][20]]
    factors = factors.with_columns(pl.when(pl.col("date") >= action["date"][20]).then(2.0).otherwise(1.0).alias("factor"))
    assert found(action, "corporate_action", adjustment=factors) == [action["date"][20]]


def test_rows_of_another_security_are_flagged_and_dropped():
    own = bars(wave(60))
    other = bars(wave(60, base=25.0), volume=2e6).with_columns(pl.col("turnover") * 3)
    foreign = pl.concat([own[:30], other[30:33], own[33:]])
    report = check_quality(foreign)
    flagged = report.issues.filter(pl.col("check") == "foreign_row")
    assert flagged["date"].to_list() == own["date"][30:33].to_list()
    assert report.corrected.height == 57 and not report.corrected["date"].is_in(own["date"][30:33].implode()).any()


def test_volume_unit_switch_and_turnover():
    frame = bars(wave(50))
    switched = set_row(set_row(frame, 20, volume=5e8, turnover=0.0), 21, volume=5e8, turnover=0.0)
    report = check_quality(switched)
    units = report.issues.filter(pl.col("check") == "volume_unit")
    assert units["date"].to_list() == frame["date"][20:22].to_list()
    assert report.corrected["volume"][20] == 5e6 and report.corrected["turnover"][20] == pytest.approx(0.005, rel=0.1)
    off = set_row(frame, 30, turnover=0.05)  # ten times what the volume implies
    assert found(off, "turnover_mismatch") == [frame["date"][30]]


def test_stale_bars_and_rows_without_trades():
    frame = bars(wave(30))
    row = frame.row(9, named=True)
    stale = set_row(frame, 10, **{k: row[k] for k in ("open", "high", "low", "close", "volume", "amount")})
    assert found(stale, "stale_bar") == [frame["date"][10]]
    assert found(set_row(frame, 5, volume=0.0), "suspended_row") == [frame["date"][5]]


def test_statistical_outliers_and_volume_spike():
    closes = wave(60)
    closes[30] = round(closes[30] * 1.08, 2)  # +8 % on a 1 %-a-day stock, gone the next day
    frame = bars(closes)
    assert found(frame, "return_outlier") == [frame["date"][30]]
    vols = bars(wave(60)).with_columns(
        pl.Series("volume", [5e6 * (1 + 0.1 * (i % 5)) for i in range(60)])
    ).with_columns((pl.col("volume") * pl.col("close")).alias("amount"), (pl.col("volume") / FLOAT).alias("turnover"))
    spiked = set_row(vols, 40, volume=vols["volume"][40] * 30, amount=vols["amount"][40] * 30,
                     turnover=vols["turnover"][40] * 30)  # fmt: skip
    assert found(spiked, "volume_spike") == [vols["date"][40]]
    assert vols["date"][40] in found(spiked, "volume_outlier")
    cut = set_row(vols, 45, volume=vols["volume"][45] / 60, amount=vols["amount"][45] / 60,
                  turnover=vols["turnover"][45] / 60)  # fmt: skip
    assert found(cut, "volume_outlier") == [vols["date"][45]]


def test_leading_zeros_restored():
    frame = bars(wave(30), symbol="000338.SZ").with_columns(
        pl.when(pl.int_range(pl.len()) < 10).then(pl.lit("338")).otherwise(pl.lit("000338")).alias("symbol")
    )
    report = check_quality(frame)
    issue = report.issues.filter(pl.col("check") == "symbol_code")
    assert issue["date"].to_list() == [frame["date"][9]] and "10 rows" in issue["detail"][0]
    assert report.corrected["symbol"].unique().to_list() == ["000338.SZ"]


def test_pct_change_recomputed_from_change():
    frame = set_row(bars(wave(30)), 7, pct_change=0.05)
    report = check_quality(frame)
    assert report.issues.filter(pl.col("check") == "pct_change_mismatch")["date"].to_list() == [frame["date"][7]]
    assert report.corrected["pct_change"][7] == pytest.approx(frame["change"][7] / (frame["close"][7] - frame["change"][7]), abs=1e-6)


def test_score_formula():
    rows = pl.DataFrame({"symbol": ["A", "B"], "rows": [100, 50]}, schema_overrides={"rows": pl.UInt32})
    day = date(2024, 1, 2)
    issues = pl.DataFrame({
        "symbol": ["A", "A", "A", "B", "B"], "date": [day, day, day + timedelta(1), day, day + timedelta(1)],
        "check": ["x", "y", "missing_session", "z", "w"], "severity": ["error", "warning", "warning", "info", "error"],
        "detail": [""] * 5, "status": ["open", "open", "open", "open", "corrected"],
    })  # fmt: skip
    scores = {r["symbol"]: r for r in compute_scores(rows, issues).iter_rows(named=True)}
    assert scores["A"]["expected"] == 101 and scores["A"]["score"] == pytest.approx(1 - 1.5 / 101)
    assert scores["B"]["score"] == pytest.approx(1 - 0.25 / 50)


def test_params_are_data():
    frame = set_row(bars(wave(60)), 30, volume=5e6 * 15, amount=5e6 * 15 * 10, turnover=5e6 * 15 / FLOAT)
    assert found(frame, "volume_spike", params=QualityParams(spike_ratio=20.0)) == []


# --- consequences of one fault are not read as another (issue 4 follow-up) ---------------------------------


def bad_print(frame: pl.DataFrame, i: int, factor: float) -> pl.DataFrame:
    """Row ``i`` closes at ``factor`` x its reference (its own change agrees); the next row still reports a
    change from the true close, as the exchange would."""
    ref = frame["close"][i] - frame["change"][i]
    close = round(ref * factor, 2)
    return set_row(frame, i, close=close, high=close + 0.05, change=round(close - ref, 2),
                   pct_change=round((close - ref) / ref, 4))  # fmt: skip


def test_break_after_a_print_beyond_the_limit_is_not_an_ex_date():
    frame = bad_print(bars(wave(60)), 30, 1.15)  # +15 % on the main board (limit 10 %)
    day = frame["date"]
    assert found(frame, "price_limit") == [day[30]]
    # row 31 reports a previous close 13 % below row 30's: before, this read as an ex-rights factor of 0.87
    assert found(frame, "corporate_action") == []
    assert found(frame, "change_mismatch") == []
    assert found(frame, "foreign_row") == []


def test_break_after_lost_sessions_is_not_an_ex_date():
    closes = wave(60)
    closes[30], closes[31] = round(closes[29] * 0.97, 2), round(closes[29] * 0.95, 2)
    full = bars(closes)
    frame = full.filter(~pl.int_range(pl.len()).is_in([30, 31]))
    day = full["date"]
    assert found(frame, "missing_session", sessions_list=day.to_list()) == [day[30], day[31]]
    # row 32's reference is the lost row 31's close, 5 % under row 29's: not an ex-date, not a second issue
    assert found(frame, "corporate_action", sessions_list=day.to_list()) == []
    assert found(frame, "change_mismatch", sessions_list=day.to_list()) == []


def donor_rows(frame: pl.DataFrame, rows: range, level: float, float_shares: float) -> pl.DataFrame:
    """Put rows of another security (prices ``level`` x ours, its own change path and free float) at ``rows``."""
    out = frame
    for i in rows:
        close, prev = round(frame["close"][i] * level, 2), round(frame["close"][i - 1] * level, 2)
        volume = frame["volume"][i]
        out = set_row(out, i, open=prev, high=max(prev, close) + 0.05, low=min(prev, close) - 0.05, close=close,
                      change=round(close - prev, 2), pct_change=round((close - prev) / prev, 4),
                      amount=volume * close, turnover=volume / float_shares)  # fmt: skip
    return out


def test_foreign_run_is_not_opened_by_the_break_after_a_bad_print():
    # a donor at about the bad print's level: pairing the bad print's break (row 31) with the donor's entry
    # (row 40) once made rows 31..39 "foreign" and left the donor's exit unexplained
    frame = donor_rows(bad_print(bars(wave(80)), 30, 1.15), range(40, 45), 1.16, FLOAT / 4)
    day = frame["date"]
    assert found(frame, "foreign_row") == day[40:45].to_list()
    assert found(frame, "price_limit") == [day[30]]
    assert found(frame, "corporate_action") == [] and found(frame, "change_mismatch") == []


def test_float_baseline_for_a_large_cap_with_tiny_turnover():
    # ICBC-like: ~0.04 % a day, reported in percent with two decimals. Before, rows under 0.1 % had no float
    # of their own, so a donor run set the baseline and every real row nearby became a turnover mismatch.
    big = 1e12
    frame = bars(wave(80), volume=4e8).with_columns((pl.col("volume") / big).round(4).alias("turnover"))
    frame = donor_rows(frame, range(30, 36), 1.3, big / 50)
    day = frame["date"]
    assert found(frame, "turnover_mismatch") == day[30:36].to_list()  # the donor's rows only
    assert found(frame, "foreign_row") == day[30:36].to_list()


def test_volume_cut_in_a_year_whose_volume_level_moves():
    # 60 sessions at 5e6 shares then 60 at 5e7: a year-wide MAD sees two clusters (sigma ~1.7 in log volume)
    # and a cut to 1/60 of the second level is only ~1.7 sigmas from the year's median; locally it is ~25
    frame = bars(wave(120), start=date(2024, 1, 2)).with_columns(
        pl.Series("volume", [(5e6 if i < 60 else 5e7) * (1 + 0.1 * (i % 5)) for i in range(120)])
    ).with_columns((pl.col("volume") * pl.col("close")).alias("amount"), (pl.col("volume") / FLOAT).alias("turnover"))
    cut = set_row(frame, 90, volume=frame["volume"][90] / 60, amount=frame["amount"][90] / 60,
                  turnover=frame["turnover"][90] / 60)  # fmt: skip
    assert found(cut, "volume_outlier") == [frame["date"][90]]


def test_robust_z_is_statsmodels_mad_per_symbol_and_year():
    from statsmodels.robust.scale import mad

    from quantdb_lab.quality.outliers import robust_z

    rng = np.random.default_rng(3)
    days = [date(2023, 12, 1) + timedelta(days=i) for i in range(60)]  # 31 days of 2023, 29 of 2024
    frame = pl.DataFrame({"symbol": ["A"] * 60 + ["B"] * 60, "date": days * 2, "x": rng.standard_t(3, 120)})
    z = robust_z(frame, pl.col("x"))
    x = frame["x"].to_numpy()
    for lo, hi in ((0, 31), (60, 91)):  # the 2023 groups have 31 rows; 2024's 29 also reach the 20-row minimum
        chunk = x[lo:hi]
        expected = (chunk - np.median(chunk)) / mad(chunk, center=np.median(chunk))
        np.testing.assert_allclose(z[lo:hi], expected, rtol=1e-9)
    short = robust_z(frame.head(15), pl.col("x"))
    assert np.isnan(short).all()  # under 20 rows in a group: not judged


def test_stale_run_counts_repeats_per_symbol():
    frame = bars(wave(20))
    row = {c: frame[c][5] for c in ("open", "high", "low", "close", "volume", "amount", "change", "pct_change")}
    stale = set_row(set_row(frame, 6, **row), 7, **row)  # rows 6 and 7 repeat row 5
    day = frame["date"]
    assert found(stale, "stale_bar") == [day[6], day[7]]
    assert found(stale, "stale_bar", params=QualityParams(stale_run=2)) == [day[7]]


# --- volume spikes against the local level (issue 4 follow-up) -------------------------------------------------


def with_volumes(frame: pl.DataFrame, volumes: list[float]) -> pl.DataFrame:
    return frame.with_columns(pl.Series("volume", volumes)).with_columns(
        (pl.col("volume") * pl.col("close")).alias("amount"), (pl.col("volume") / FLOAT).alias("turnover")
    )


def test_volume_spike_after_a_busy_stretch():
    # 60 calm days at ~1e6 shares, a busy stretch of 15 days at 4e6 (rows 60..74), then calm again. Row 80 is
    # 25 x 1e6: only ~6x the busy stretch's median, so the previous-20-session baseline once missed it; its
    # local (centred 41-session) level is the calm 1e6, 25 x above it.
    n = 120
    volumes = [1e6 * (1 + 0.1 * (i % 5)) * (4.0 if 60 <= i < 75 else 1.0) for i in range(n)]
    volumes[80] = 25e6
    frame = with_volumes(bars(wave(n)), volumes)
    assert found(frame, "volume_spike") == [frame["date"][80]]


def test_a_lasting_rise_in_volume_is_not_a_spike():
    # volume steps from 1e5 to 4e6 (40x) on row 40 and stays there: a new level, not a one-day spike
    # (the previous-20-session baseline flagged the first days of the new level)
    n = 100
    volumes = [(1e5 if i < 40 else 4e6) * (1 + 0.1 * (i % 5)) for i in range(n)]
    assert found(with_volumes(bars(wave(n)), volumes), "volume_spike") == []


def test_no_volume_spike_on_resumption_or_listing_or_in_a_wild_series():
    n = 80
    calm = [1e6 * (1 + 0.1 * (i % 5)) for i in range(n)]
    resumed = calm.copy()
    resumed[30], resumed[31] = 0.0, 30e6  # a suspension row, then the resumption day trades 30x
    frame = with_volumes(bars(wave(n)), resumed)
    assert found(frame, "volume_spike") == []
    later = with_volumes(bars(wave(n)), calm[:30] + [30e6] + calm[31:])  # the same day with no suspension before
    assert found(later, "volume_spike") == [later["date"][30]]
    listing = calm.copy()
    listing[0] = 40e6  # listing day
    listed = pl.DataFrame({"symbol": ["600000.SH"], "list_date": [date(2024, 3, 4)], "is_st": [False]})
    assert found(with_volumes(bars(wave(n)), listing), "volume_spike", securities=listed) == []
    # log volume with a robust sigma of ~1 (seeded, clipped at +-1.8 so no other day is 10x): 12x the level is
    # ~2.5 sigmas, not the 5 a spike needs; with a 2-sigma bar the same day is one
    wild = list(1e6 * np.exp(np.clip(np.random.default_rng(3).normal(0.0, 1.0, n), -1.8, 1.8)))
    wild[40] = 12e6
    frame = with_volumes(bars(wave(n)), wild)
    assert found(frame, "volume_spike") == []
    assert found(frame, "volume_spike", params=QualityParams(spike_z=2.0)) == [frame["date"][40]]
