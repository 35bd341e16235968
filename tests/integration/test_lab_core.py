"""The Lab end to end on the simulated market: calls, correctness of adjustment, freshness, failures."""

from __future__ import annotations

import polars as pl
import pytest

from quantdb_lab.domain.schema import BARS
from quantdb_lab.errors import (
    EmptyResultError,
    InvalidDateRangeError,
    InvalidRequestError,
    InvalidSymbolError,
    LookAheadError,
    ProviderSchemaError,
    ProviderUnavailableError,
    StaleDataWarning,
)
from tests.support.sim import MARKET, at, calls, d, make_lab


def test_cold_unadjusted_year_is_one_call_and_equals_upstream(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    frame = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="")
    assert calls(provider) == 1
    truth = MARKET.bars("600519.SH", d("2024-01-01"), d("2024-12-31"), now=at("2025-06-06 16:00"))
    assert frame.equals(truth.select(frame.columns))
    assert frame.schema == pl.Schema(BARS)
    again = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="")
    assert calls(provider) == 1 and again.equals(frame)
    assert again.quantdb.provenance.series[0].from_cache


def test_five_years_is_still_one_call(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    frame = lab.bars("000001", start="2020-01-01", end="2024-12-31", adjust="")
    assert calls(provider) == 1 and frame.height > 1150


def test_qfq_is_one_call_and_matches_the_independent_truth(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    symbol, _ex = MARKET.next_action_after(d("2024-03-01"))
    qfq = lab.bars(symbol, start="2024-01-01", end="2024-12-31", adjust="qfq")
    assert calls(provider) == 1  # the unadjusted bars alone: the factors are in them
    # Independent truth: raw close times the product of the factors of every ex-date after the day, up to now.
    now = at("2025-06-06 16:00")
    raw = MARKET.bars(symbol, d("2024-01-01"), d("2025-06-06"), now=now).select("date", "close")
    actions = MARKET.actions(symbol, now=now).select("ex_date", "factor")
    expected = []
    for day, close in raw.iter_rows():
        later = actions.filter(pl.col("ex_date") > day)["factor"]
        factor = float(later.product()) if later.len() else 1.0
        expected.append((day, close * factor))
    truth = pl.DataFrame(expected, schema=["date", "expected"], orient="row")
    joined = qfq.join(truth, on="date")
    assert joined.height == qfq.height
    rel = ((joined["close"] - joined["expected"]).abs() / joined["expected"]).max()
    assert rel < 1e-9  # the exchange's reference prices give the exact factors
    assert actions.filter(pl.col("ex_date").is_between(d("2024-01-02"), d("2025-06-06"))).height >= 1


def test_dividend_after_first_fetch_rescales_history_without_refetching_it(tmp_path):
    found = MARKET.next_action_after(d("2025-03-03"))
    assert found is not None
    symbol, ex_date = found
    before = MARKET.calendar.previous_session(ex_date)
    lab, provider, clock = make_lab(tmp_path, now=f"{before.isoformat()} 16:00")
    first = lab.bars(symbol, start="2024-06-03", end="2024-12-31", adjust="qfq")
    assert calls(provider) == 1
    clock.current = at(f"{ex_date.isoformat()} 16:00")
    second = lab.bars(symbol, start="2024-06-03", end="2024-12-31", adjust="qfq")
    # one call, only for the new session (a suspension inside the first answer is the upstream's own
    # statement that those days did not trade: covered by that answer, never asked again)
    assert calls(provider) == 2
    assert all(fetch[1] == ex_date for fetch in second.quantdb.provenance.series[0].fetched)
    factor = MARKET.actions(symbol).filter(pl.col("ex_date") == ex_date)["factor"].item()
    ratio = (second["close"] / first["close"]).to_numpy()
    assert ratio == pytest.approx(factor, rel=1e-9)
    assert factor < 1.0


def test_hfq_history_is_stable_and_exact(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    hfq = lab.bars("600519", start="2010-01-01", end="2010-12-31", adjust="hfq")
    exact = MARKET.hfq("600519.SH", now=at("2025-06-06 16:00")).filter(pl.col("date").is_between(d("2010-01-01"), d("2010-12-31")))
    assert hfq["close"].to_numpy() == pytest.approx(exact["close"].to_numpy(), rel=1e-9)
    assert calls(provider) == 1  # the unadjusted history since the listing, in one call
    later = lab.bars("600519", start="2010-01-01", end="2025-06-06", adjust="hfq")
    assert calls(provider) == 2 and later.quantdb.provenance.series[0].fetched[0][1] == d("2011-01-04")  # only what is new
    assert later.head(hfq.height).equals(hfq)


def test_adjust_is_part_of_the_cache_key(tmp_path):
    # QuantDB bug: asking "" then "qfq" served unadjusted prices with 0 calls.
    lab, provider, _ = make_lab(tmp_path)
    symbol, _ = MARKET.next_action_after(d("2024-06-01"))
    raw = lab.bars(symbol, start="2024-01-01", end="2024-05-31", adjust="")
    qfq = lab.bars(symbol, start="2024-01-01", end="2024-05-31", adjust="qfq")
    assert calls(provider) > 1
    assert not raw["close"].equals(qfq["close"])


def test_provisional_bar_is_replaced_after_the_close(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-06-05 10:30")
    during = lab.bars("600519", start="2025-06-02", end=None, adjust="")
    assert during.quantdb.provenance.series[0].provisional == d("2025-06-05")
    partial = during.filter(pl.col("date") == d("2025-06-05"))["volume"].item()
    clock.current = at("2025-06-05 10:40")  # within research's 1 h freshness: served
    lab.bars("600519", start="2025-06-02", end=None, adjust="")
    assert calls(provider) == 1
    clock.current = at("2025-06-05 15:45")  # final now: fetched again, only that day
    after = lab.bars("600519", start="2025-06-02", end=None, adjust="")
    assert calls(provider) == 2
    assert after.quantdb.provenance.series[0].fetched == (("bars", d("2025-06-05"), d("2025-06-05")),)
    final = MARKET.bars("600519.SH", d("2025-06-05"), d("2025-06-05"), now=at("2025-06-06 16:00"))["volume"].item()
    assert after.filter(pl.col("date") == d("2025-06-05"))["volume"].item() == final > partial
    clock.current = at("2025-06-05 21:00")  # a final bar is never fetched again
    lab.bars("600519", start="2025-06-02", end=None, adjust="")
    assert calls(provider) == 2


def test_extending_by_k_sessions_fetches_k_rows_and_weekends_nothing(tmp_path):
    lab, provider, clock = make_lab(tmp_path, now="2025-05-23 16:00")
    lab.bars("600519", start="2025-01-02", end=None, adjust="")
    clock.current = at("2025-05-31 10:00")  # next Saturday: five new sessions
    frame = lab.bars("600519", start="2025-01-02", end=None, adjust="")
    assert calls(provider) == 2
    ((_, first, last),) = frame.quantdb.provenance.series[0].fetched
    assert (first, last) == (d("2025-05-26"), d("2025-05-30"))
    assert lab.stats()["rows_fetched"] == lab.bars("600519", start="2025-01-02", end=None, adjust="").height
    clock.current = at("2025-06-01 10:00")
    lab.bars("600519", start="2025-01-02", end=None, adjust="")
    assert calls(provider) == 2


def test_empty_results_are_remembered_and_never_silent(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    unknown = "600999"
    assert MARKET.profile(unknown) is None
    counts = []
    for _ in range(3):
        with pytest.raises(EmptyResultError) as info:
            lab.bars(unknown, start="2024-01-01", end="2024-12-31", adjust="")
        assert info.value.symbol == "600999.SH"
        counts.append(calls(provider))
    # an empty answer is asked again at once, then once more on the next read; the second read's answer
    # confirms it, and from then on it is remembered (no call)
    assert counts == [2, 3, 3]
    assert "confirmed by a second answer" in str(info.value)


def test_dates_before_listing_serve_from_listing(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    symbol = "688981.SH"
    listed = MARKET.listing_date(symbol)
    frame = lab.bars(symbol, start="1995-01-01", end=listed.replace(year=listed.year + 1), adjust="")
    assert frame["date"].min() == listed and calls(provider) == 1
    for expected_calls in (2, 2):  # the days before listing: confirmed by the second answer, then remembered
        with pytest.raises(EmptyResultError, match="outside the traded life"):
            lab.bars(symbol, start="1995-01-01", end=listed.replace(year=listed.year - 1), adjust="")
        assert calls(provider) == expected_calls


def test_bad_input_gets_clear_typed_errors(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    with pytest.raises(InvalidSymbolError):
        lab.bars("60O519")
    with pytest.raises(InvalidDateRangeError):
        lab.bars("600519", start="2024-02-01", end="2024-01-01")
    with pytest.raises(InvalidRequestError):
        lab.bars("600519", start="2024-01-01", adjust="forward")
    with pytest.raises(InvalidRequestError):
        lab.bars("600519", start="2024-01-01", freq="hourly")
    with pytest.raises(InvalidDateRangeError):
        lab.bars("600519", start="2031-01-01", end="2031-02-01")
    assert calls(provider) == 0
    frame = lab.bars("600519", start="2025-06-02", end="2026-12-31", adjust="")  # partly future: the past
    assert frame["date"].max() == d("2025-06-06")


def test_upstream_down_raises_or_serves_stale_with_a_warning(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="")
    provider.faults.down = True
    with pytest.warns(StaleDataWarning):
        stale = lab.bars("600519", start="2025-01-02", end="2025-06-06", adjust="")
    assert stale.quantdb.provenance.series[0].stale and stale["date"].max() == d("2025-03-31")
    with pytest.raises(ProviderUnavailableError):
        lab.using("trading").bars("600519", start="2025-01-02", end="2025-06-06", adjust="")
    with pytest.raises(ProviderUnavailableError):  # nothing cached: an error, never an empty frame
        lab.bars("000001", start="2025-01-02", end="2025-03-31", adjust="")


def test_schema_drift_is_a_schema_error_and_stores_nothing(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    provider.faults.schema_drift = True
    with pytest.raises(ProviderSchemaError):
        lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="")
    provider.faults.schema_drift = False
    assert lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="").height > 50


def test_corrupt_cache_file_is_detected_and_refetched(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    good = lab.bars("600519", start="2025-01-02", end="2025-03-31", adjust="")
    files = list((tmp_path / "cache").rglob("600519.SH.*.parquet"))
    assert len(files) == 1
    files[0].write_bytes(b"garbage")
    fresh, provider2, _ = make_lab(tmp_path)  # a new kernel: no memory copy
    again = fresh.bars("600519", start="2025-01-02", end="2025-03-31", adjust="")
    assert again.equals(good) and calls(provider2) == 1
    assert fresh.stats()["corrupt_refetched"] == 1


def test_as_of_cutoff_and_point_in_time_qfq(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    cut = lab.using(lab.mode.with_(as_of=d("2024-06-28")))
    with pytest.raises(LookAheadError):
        cut.bars("600519", start="2024-01-01", end="2024-07-31")
    frame = cut.bars("600519", start="2024-06-01", adjust="qfq")
    assert frame["date"].max() <= d("2024-06-28")
    raw = lab.bars("600519", start="2024-06-28", end="2024-06-28", adjust="")
    # qfq as of the cutoff equals the traded price at the cutoff: no later dividend leaks in
    assert frame["close"][-1] == pytest.approx(raw["close"][0], rel=1e-9)


def test_weekly_and_monthly_bars_are_derived_from_daily(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    daily = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="")
    weekly = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="", freq="weekly")
    monthly = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="", freq="monthly")
    assert calls(provider) == 1
    # independent grouping by ISO week in plain Python
    groups: dict[tuple[int, int], list[dict]] = {}
    for row in daily.iter_rows(named=True):
        groups.setdefault(row["date"].isocalendar()[:2], []).append(row)
    assert weekly.height == len(groups)
    for row, key in zip(weekly.iter_rows(named=True), sorted(groups)):
        days = groups[key]
        assert row["date"] == days[-1]["date"] and row["open"] == days[0]["open"] and row["close"] == days[-1]["close"]
        assert row["high"] == max(x["high"] for x in days) and row["volume"] == pytest.approx(sum(x["volume"] for x in days))
    assert monthly.height == 12


def test_many_symbols_long_frame_and_stats(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    frame = lab.bars(["600519", "000001", "sh000300"], start="2025-01-02", end="2025-03-31", adjust="")
    assert set(frame["symbol"].unique()) == {"600519.SH", "000001.SZ", "000300.SH"}
    stats = lab.stats()
    assert stats["upstream_calls_total"] == 3 == calls(provider)
    assert stats["misses"] == 3 and stats["bytes_on_disk"] > 0 and stats["series"] == 3
    assert lab.clear("600519") == 1 and lab.stats()["series"] == 2
