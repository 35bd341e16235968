"""Gap synthesis, pure layer: what a gap is, the bridge's arithmetic, the refusal rules, the output contract.

Expected values are written out by hand (dates, bridge moments), never taken from the code under test.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from quantdb_lab.domain.schema import BARS
from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.synthesis import SynthesisConfig, fill_gaps, find_gaps
from quantdb_lab.synthesis.bridge import bridge_moments, bridge_sample
from tests.support.sim import MARKET, at, d, weekdays

BRIDGE = SynthesisConfig(method="bridge")


def series(closes, start=date(2024, 1, 1), *, drop=()) -> tuple[pl.DataFrame, list[date]]:
    """A BARS frame on consecutive weekdays (the sessions), with some days removed."""
    sessions = weekdays(start, len(closes))
    c = np.asarray(closes, dtype=float)
    frame = pl.DataFrame({
        "symbol": ["600000.SH"] * len(c), "date": sessions, "open": c * 0.995, "high": c * 1.01,
        "low": c * 0.985, "close": c, "volume": np.linspace(1e6, 2e6, len(c)), "amount": c * 1e6,
        "turnover": np.full(len(c), 0.01), "pct_change": np.r_[0.0, c[1:] / c[:-1] - 1],
        "change": np.r_[0.0, np.diff(c)],
    }, schema=BARS)  # fmt: skip
    return frame.filter(~pl.col("date").is_in(list(drop))), sessions


def walk(n: int, seed: int = 3, vol: float = 0.015) -> np.ndarray:
    return 20.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, vol, n)))


# -- gap detection --------------------------------------------------------------------------------------
def test_gaps_on_a_hand_built_calendar():
    s = weekdays(date(2024, 3, 4), 12)  # Mon 4 Mar .. Tue 19 Mar
    bars = [s[0], s[1], s[3], s[4], s[8], s[9], s[11]]
    gaps = find_gaps(bars, s)
    assert [(g.before, g.after, g.sessions) for g in gaps] == [
        (date(2024, 3, 5), date(2024, 3, 7), (date(2024, 3, 6),)),
        (date(2024, 3, 8), date(2024, 3, 14), (date(2024, 3, 11), date(2024, 3, 12), date(2024, 3, 13))),
        (date(2024, 3, 15), date(2024, 3, 19), (date(2024, 3, 18),)),
    ]


def test_suspensions_are_not_gaps_unless_asked_and_mixed_runs_keep_their_span():
    s = weekdays(date(2024, 3, 4), 8)
    bars = [s[0], s[1], s[6], s[7]]  # missing 6, 7, 8, 11 Mar (Wed..Mon)
    suspended = [(date(2024, 3, 7), date(2024, 3, 8))]
    (gap,) = find_gaps(bars, s, suspensions=suspended)
    assert gap.sessions == (date(2024, 3, 6), date(2024, 3, 11))
    assert gap.span == (date(2024, 3, 6), date(2024, 3, 7), date(2024, 3, 8), date(2024, 3, 11))
    assert gap.length == 4
    only_suspended = find_gaps([s[0], s[1], s[4], s[5]], s, suspensions=[(s[2], s[3])])
    assert only_suspended == []
    (asked,) = find_gaps([s[0], s[1], s[4], s[5]], s, suspensions=[(s[2], s[3])], fill_suspensions=True)
    assert asked.sessions == (date(2024, 3, 6), date(2024, 3, 7))


def test_edges_and_listed_life_bound_the_gaps():
    s = weekdays(date(2024, 3, 4), 10)
    # missing sessions before the first bar or after the last are not gaps (nothing anchors them)
    assert find_gaps([s[2], s[3], s[5], s[6]], s) == [find_gaps([s[2], s[3], s[5], s[6]], s)[0]]
    assert find_gaps([s[2], s[3], s[5], s[6]], s)[0].sessions == (s[4],)
    # a listed life ending before a gap excludes it
    assert find_gaps([s[0], s[1], s[3], s[4]], s, listed=(None, s[2])) == []


def test_simulated_suspension_and_dropped_days():
    """On a simulated stock with a scheduled suspension, only the days we drop are gaps."""
    symbol = "000187.SZ"
    assert (d("2024-11-22"), d("2024-11-29")) in MARKET.suspensions(symbol)
    frame = MARKET.bars(symbol, d("2024-10-08"), d("2024-12-31"), now=at("2025-06-06 16:00"))
    dropped = [d("2024-10-15"), d("2024-12-10"), d("2024-12-11")]
    held = frame.filter(~pl.col("date").is_in(dropped))
    sessions = MARKET.calendar.sessions(d("2024-10-08"), d("2024-12-31"))
    gaps = find_gaps(held["date"], sessions, suspensions=MARKET.suspensions(symbol))
    assert [g.sessions for g in gaps] == [(d("2024-10-15"),), (d("2024-12-10"), d("2024-12-11"))]
    both = find_gaps(held["date"], sessions, suspensions=MARKET.suspensions(symbol), fill_suspensions=True)
    suspended = (d("2024-11-22"), d("2024-11-25"), d("2024-11-26"), d("2024-11-27"), d("2024-11-28"), d("2024-11-29"))
    assert [g.sessions for g in both] == [(d("2024-10-15"),), suspended, (d("2024-12-10"), d("2024-12-11"))]


# -- the bridge -----------------------------------------------------------------------------------------
def test_bridge_moments_by_hand():
    x0, x1, sigma = math.log(10.0), math.log(12.0), 0.02
    mean, var = bridge_moments(x0, x1, 4, sigma)
    step = (math.log(12.0) - math.log(10.0)) / 4
    assert mean == pytest.approx([x0 + step, x0 + 2 * step, x0 + 3 * step])
    assert var == pytest.approx([0.0004 * 3 / 4, 0.0004 * 4 / 4, 0.0004 * 3 / 4])


def test_one_day_bridge_sample_by_hand():
    x0, x1, sigma = 1.0, 1.2, 0.03
    z = np.random.default_rng(9).standard_normal(1)[0]
    (value,) = bridge_sample(x0, x1, 2, sigma, np.random.default_rng(9))
    assert value == pytest.approx(1.1 + sigma * math.sqrt(0.5) * z)


def test_bridge_samples_have_the_bridge_covariance():
    """Cov(x_j, x_k) = sigma^2 j (n - k) / n for j <= k: a textbook identity the sampler does not use."""
    rng = np.random.default_rng(0)
    draws = np.array([bridge_sample(0.0, 0.1, 5, 0.02, rng) for _ in range(20000)])
    expected = np.array([[0.0004 * min(j, k) * (5 - max(j, k)) / 5 for k in range(1, 5)] for j in range(1, 5)])
    assert np.cov(draws.T) == pytest.approx(expected, abs=2.5e-5)
    assert draws.mean(axis=0) == pytest.approx([0.02, 0.04, 0.06, 0.08], abs=1e-3)


def test_bridge_mean_fill_is_log_linear_interpolation():
    closes = walk(120)
    closes[60] = 10.0
    closes[61] = 999.0  # dropped
    closes[62] = 12.1
    frame, sessions = series(closes, drop=[weekdays(date(2024, 1, 1), 120)[61]])
    out = fill_gaps(frame, sessions, config=SynthesisConfig(method="bridge", min_score=0.0)).frame
    (row,) = out.filter(pl.col("is_synthetic")).iter_rows(named=True)
    assert row["close"] == pytest.approx(11.0)  # sqrt(10 * 12.1)
    assert row["close_lo"] < 11.0 < row["close_hi"]


# -- output contract ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["bridge", "statespace"])
def test_real_rows_pass_through_and_synthetic_rows_are_flagged(method):
    closes = walk(160)
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(closes, drop=all_days[70:73] + all_days[100:101])
    out = fill_gaps(frame, sessions, config=SynthesisConfig(method=method)).frame
    assert out.height == 160 and out["date"].to_list() == all_days
    assert out.filter(~pl.col("is_synthetic")).select(frame.columns).equals(frame)
    synth = out.filter(pl.col("is_synthetic"))
    assert synth["date"].to_list() == all_days[70:73] + all_days[100:101]
    assert synth["symbol"].to_list() == ["600000.SH"] * 4
    assert (synth["close_lo"] <= synth["close"]).all() and (synth["close"] <= synth["close_hi"]).all()
    assert out.filter(~pl.col("is_synthetic"))["close_lo"].null_count() == 156
    assert out.schema["volume"] == pl.Float64 and out.schema["date"] == pl.Date


def test_band_widens_with_level_and_with_distance_from_the_anchors():
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(walk(160), drop=all_days[80:87])
    narrow = fill_gaps(frame, sessions, config=SynthesisConfig(method="bridge", level=0.5)).frame
    wide = fill_gaps(frame, sessions, config=SynthesisConfig(method="bridge", level=0.99)).frame
    n, w = (f.filter(pl.col("is_synthetic")).select((pl.col("close_hi") / pl.col("close_lo")).log())
            .to_series().to_numpy() for f in (narrow, wide))  # fmt: skip
    assert np.all(w > n)
    assert w[3] > w[0] and w[3] > w[-1]  # widest in the middle of the gap


def test_statespace_follows_the_reference_on_the_missing_days():
    rng = np.random.default_rng(4)
    ref = 3000 * np.exp(np.cumsum(rng.normal(0, 0.012, 200)))
    ref[100] *= 1.06  # a big market day inside the gap
    ref[101:] *= 1.06
    stock = 20 * (ref / ref[0]) * np.exp(rng.normal(0, 0.002, 200))
    all_days = weekdays(date(2024, 1, 1), 200)
    frame, sessions = series(stock, drop=all_days[99:102])
    reference = pl.DataFrame({"date": all_days, "close": ref})
    out = fill_gaps(frame, sessions, reference=reference).frame.filter(pl.col("is_synthetic"))
    err_model = np.abs(out["close"].to_numpy() / stock[99:102] - 1)
    interp = np.exp(np.interp([99, 100, 101], [98, 102], np.log([stock[98], stock[102]])))
    err_interp = np.abs(interp / stock[99:102] - 1)
    assert err_model.mean() < 0.3 * err_interp.mean()
    assert err_model.max() < 0.01


def test_two_references_each_get_their_loading():
    """A stock driven by the market and its sector: with both references the fill follows both factors'
    moves on the missing days; with the market alone it misses the sector's."""
    rng = np.random.default_rng(9)
    market = np.cumsum(rng.normal(0, 0.012, 200))
    sector = np.cumsum(rng.normal(0, 0.012, 200))
    sector[101:] += 0.08  # the sector's big day inside the gap
    stock = 20 * np.exp(0.8 * market + 1.2 * sector + np.cumsum(rng.normal(0, 0.002, 200)))
    all_days = weekdays(date(2024, 1, 1), 200)
    frame, sessions = series(stock, drop=all_days[99:104])
    refs = [pl.DataFrame({"date": all_days, "close": 3000 * np.exp(f)}) for f in (market, sector)]
    both = fill_gaps(frame, sessions, reference=refs)
    alone = fill_gaps(frame, sessions, reference=refs[0])
    assert np.allclose(both.reports[0].beta, (0.8, 1.2), atol=0.1) and len(alone.reports[0].beta) == 1
    truth = stock[99:104]
    err = {name: np.abs(r.frame.filter(pl.col("is_synthetic"))["close"].to_numpy() / truth - 1).mean()
           for name, r in (("both", both), ("alone", alone))}  # fmt: skip
    assert err["both"] < 0.01 and err["both"] < 0.3 * err["alone"]


def test_reference_must_be_frames():
    frame, sessions = series(walk(120), drop=weekdays(date(2024, 1, 1), 120)[60:62])
    for bad in ("000300.SH", [frame, "sector"], 3):
        with pytest.raises(InvalidRequestError, match="reference"):
            fill_gaps(frame, sessions, reference=bad)


def test_sample_draws_are_deterministic_per_seed():
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(walk(160), drop=all_days[80:85])
    for method in ("bridge", "statespace"):
        cfg = SynthesisConfig(method=method, draw="sample", seed=42)
        first = fill_gaps(frame, sessions, config=cfg).frame
        again = fill_gaps(frame, sessions, config=cfg).frame
        other = fill_gaps(frame, sessions, config=SynthesisConfig(method=method, draw="sample", seed=43)).frame
        assert first.equals(again)
        assert not first.equals(other)


# -- refusals -------------------------------------------------------------------------------------------
def test_longer_gaps_than_max_gap_are_refused():
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(walk(160), drop=all_days[80:92])
    result = fill_gaps(frame, sessions, config=BRIDGE)
    (report,) = result.refused
    assert report.span == 12 and report.cause == "too long"
    assert report.reason == "too long: 12 sessions missing in a row, more than max_gap=10"
    assert result.frame.height == frame.height  # nothing added
    assert fill_gaps(frame, sessions, config=SynthesisConfig(method="bridge", max_gap=12)).frame.height == 160


def test_a_refused_gap_leaves_the_other_gaps_of_the_series_filled():
    """Refusal is per gap: a long outage stays missing, the short gaps around it are filled."""
    all_days = weekdays(date(2024, 1, 1), 240)
    short = [all_days[40], all_days[200], all_days[201]]
    frame, sessions = series(walk(240), drop=[*short, *all_days[100:112]])
    for method in ("bridge", "statespace"):
        result = fill_gaps(frame, sessions, config=SynthesisConfig(method=method))
        assert [r.accepted for r in result.reports] == [True, False, True]
        assert result.frame.filter(pl.col("is_synthetic"))["date"].to_list() == short


def test_a_refusal_names_its_cause_not_a_score():
    closes = walk(160, vol=0.01)
    closes[81:] *= 1.8  # +80% across a one-day gap with 1% daily volatility: 40 times the usual move
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(closes, drop=[all_days[80]])
    for method in ("bridge", "statespace"):
        for draw in ("mean", "sample"):  # a property of the gap: both draws decide alike
            result = fill_gaps(frame, sessions, config=SynthesisConfig(method=method, draw=draw, seed=1))
            (report,) = result.reports
            assert not report.accepted and report.cause == "jump across the gap"
            moved = f"{closes[81] / closes[79] - 1:+.0%}"  # +84%: the walk's own two steps and the jump
            assert report.reason.startswith(f"jump across the gap: the price moved {moved} over 2 sessions, more "
                                            "than the daily price limit (+-10%) allows")  # fmt: skip
            assert "score" not in report.reason
        assert fill_gaps(frame, sessions, config=SynthesisConfig(method=method, min_score=0.0)).reports[0].accepted


@pytest.mark.parametrize("draw", ["mean", "sample"])
def test_a_large_but_ordinary_move_across_a_gap_is_filled(draw):
    """A 4.5-sigma move across a one-day gap happens on ordinary series (fat tails): it is filled, not refused."""
    rng = np.random.default_rng(12)
    steps = rng.normal(0, 0.01, 160)
    steps[80:82] = 0.045  # 9% over the two returns around the missing day: 4.5 sigma of a two-day move
    all_days = weekdays(date(2024, 1, 1), 160)
    frame, sessions = series(20 * np.exp(np.cumsum(steps)), drop=[all_days[80]])
    for method in ("bridge", "statespace"):
        (report,) = fill_gaps(frame, sessions, config=SynthesisConfig(method=method, draw=draw, seed=5)).reports
        assert report.accepted and report.reason == "" and report.cause == ""


REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data is not present")


def real_holdout(code: str, day: date, rows: int = 80) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A Tushare qfq series (real bars) around ``day`` with ``day`` removed, and the CSI 300 as a reference."""
    raw = pl.read_csv(REAL / "tushare_qfq_daily" / "data" / f"{code}.csv", try_parse_dates=True).sort("date")
    i = raw["date"].to_list().index(day)
    window = raw.slice(i - rows, 2 * rows + 1).select(
        pl.lit(code + (".SH" if code.startswith("6") else ".SZ")).alias("symbol"), "date",
        *(pl.col(c).cast(pl.Float64) for c in ("open", "high", "low", "close", "volume")),
    )  # fmt: skip
    index = pl.read_csv(REAL / "index_daily" / "baostock_hriszc" / "sh000300.csv", try_parse_dates=True)
    return window.filter(pl.col("date") != day), index.select("date", pl.col("close").cast(pl.Float64))


@real
@pytest.mark.parametrize(("code", "day"), [("600176", date(2023, 4, 20)), ("000796", date(2021, 1, 6)),
                                           ("603015", date(2025, 4, 7)), ("601398", date(2020, 7, 3))])  # fmt: skip
def test_real_liquid_series_are_not_refused_for_ordinary_moves(code, day):
    """Real one-day gaps whose move the old 3.3-sigma rule refused (601398 on 2020-07-03: the market's rally,
    603015 on 2025-04-07: the tariff crash); each is filled with the CSI 300 as the reference."""
    held, index = real_holdout(code, day)
    sessions = sorted({*held["date"].to_list(), day})
    result = fill_gaps(held, sessions, reference=index)
    (report,) = result.reports
    assert report.accepted, report.reason
    assert result.frame.filter(pl.col("is_synthetic"))["date"].to_list() == [day]


def test_a_reference_missing_on_the_gap_days_is_left_out_of_that_fill():
    """A reference without a close on the missing days says nothing about them: that gap is filled without it
    (the same fill as with no reference), and the report says so; a reference present there is used."""
    rng = np.random.default_rng(2)
    market = np.cumsum(rng.normal(0, 0.012, 200))
    stock = 20 * np.exp(market + np.cumsum(rng.normal(0, 0.004, 200)))
    all_days = weekdays(date(2024, 1, 1), 200)
    frame, sessions = series(stock, drop=all_days[99:102])
    full = pl.DataFrame({"date": all_days, "close": 3000 * np.exp(market)})
    holed = full.filter(~pl.col("date").is_in(all_days[98:103]))
    alone = fill_gaps(frame, sessions, config=SynthesisConfig())
    without = fill_gaps(frame, sessions, reference=holed)
    used = fill_gaps(frame, sessions, reference=full)
    (report,) = without.reports
    assert report.accepted and math.isnan(report.beta[0])
    assert any("reference 1 has no close on" in note for note in report.notes)
    synthetic = [r.frame.filter(pl.col("is_synthetic")).select("close", "close_lo", "close_hi") for r in (alone, without)]
    assert synthetic[0].equals(synthetic[1])
    assert used.reports[0].beta[0] == pytest.approx(1.0, abs=0.15)


def test_too_little_context_is_refused():
    all_days = weekdays(date(2024, 1, 1), 8)
    frame, sessions = series(walk(8), drop=[all_days[4]])
    (report,) = fill_gaps(frame, sessions, config=BRIDGE).reports
    assert not report.accepted and report.cause == "too little context"
    assert report.reason.startswith("too little context: ") and "real returns" in report.reason


@pytest.mark.parametrize(
    "change",
    [{"method": "linear"}, {"draw": "median"}, {"level": 1.0}, {"min_score": 2.0}, {"max_gap": 0}],
)
def test_bad_settings_are_invalid_requests(change):
    with pytest.raises(InvalidRequestError):
        SynthesisConfig(**change)


def test_malformed_series_are_invalid_requests():
    frame, sessions = series(walk(30))
    with pytest.raises(InvalidRequestError, match="duplicate"):
        fill_gaps(pl.concat([frame, frame.head(1)]), sessions)
    other = frame.with_columns(pl.lit("000001.SZ").alias("symbol")).head(3)
    with pytest.raises(InvalidRequestError, match="one symbol"):
        fill_gaps(pl.concat([frame, other]), sessions)
    with pytest.raises(InvalidRequestError, match="non-positive"):
        fill_gaps(frame.with_columns(pl.lit(-1.0).alias("close")), sessions)


def test_no_gaps_returns_the_frame_with_flags():
    frame, sessions = series(walk(30))
    result = fill_gaps(frame, sessions)
    assert result.reports == () and not result.frame["is_synthetic"].any()
    assert result.frame.select(frame.columns).equals(frame)
