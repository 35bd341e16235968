"""A calendar that never runs out: past the bundled exchange_calendars bound (2026-12-31 in 4.13) the Lab uses
the provider's trade dates, cached with the reference data and fetched at most once a day, only when a read
goes past the bound. The simulated market closes for the 2027 Spring Festival (Friday 5 to Friday 12 February,
from New Year's Eve: the statutory pattern the exchanges follow); a Lab whose clock stands in February 2027
neither fetches, nor flags as missing, nor synthesizes that week.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import polars as pl
import pytest

from quantdb_lab.domain.calendar import TradingCalendar
from quantdb_lab.domain.clock import FixedClock
from quantdb_lab.errors import CalendarBoundsWarning
from quantdb_lab.lab import Lab
from quantdb_lab.loader.stats import Stats
from quantdb_lab.loader.trade_calendar import ProviderTradeDates
from quantdb_lab.providers.akshare.replay import ReplayProvider
from tests.support import akshare_files
from tests.support.sim import at, calls, d, make_lab

FESTIVAL = [d("2027-02-05"), *(d("2027-02-08") + timedelta(days=k) for k in range(5))]  # closed weekdays
BUNDLED_BOUND = TradingCalendar.xshg().bound

pytestmark = pytest.mark.skipif(BUNDLED_BOUND >= d("2027-02-26"),
                                reason="the installed exchange_calendars already covers February 2027")  # fmt: skip


@pytest.fixture
def strict():
    """Fail on the weekdays-assumed fallback: past the bound the calendar must know the sessions."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarBoundsWarning)
        yield


def trade_date_calls(provider) -> int:
    return provider.calls["fetch_trade_dates"]


def test_the_spring_festival_week_is_not_fetched(tmp_path, strict):
    lab, provider, clock = make_lab(tmp_path, "2027-02-05 16:00")
    lab.bars("600519", start="2027-01-04", end="2027-02-05", adjust="")
    assert not set(FESTIVAL[1:]) & set(lab.calendar.sessions(d("2027-02-01"), d("2027-02-28")))
    clock.current = at("2027-02-12 16:00")  # the festival's last day: nothing has traded since the 4th
    before = calls(provider)
    assert lab.plan("600519", start="2027-01-04", adjust="").is_warm
    frame = lab.bars("600519", start="2027-01-04", adjust="")
    assert calls(provider) == before
    assert frame["date"].max() == d("2027-02-04")
    clock.current = at("2027-02-26 16:00")
    plan = lab.plan("600519", start="2027-01-04", adjust="")
    assert [(f.start, f.end) for f in plan.fetches] == [(d("2027-02-15"), d("2027-02-26"))]


def test_quality_does_not_flag_the_festival_and_synthesis_does_not_fill_it(tmp_path, strict):
    lab, _, _ = make_lab(tmp_path, "2027-02-26 16:00")
    frame = lab.bars("600519", start="2027-01-04", end="2027-02-26", adjust="")
    assert not set(frame["date"].to_list()) & set(FESTIVAL)
    report = lab.quality(frame)
    missing = report.issues.filter(pl.col("check") == "missing_session")
    assert missing.is_empty(), missing
    filled = lab.synthesize("600519", start="2027-01-04", end="2027-02-26")
    assert not set(filled["date"].to_list()) & set(FESTIVAL)
    assert not filled["is_synthetic"].any()


def test_trade_dates_are_cached_and_fetched_at_most_once_a_day(tmp_path, strict):
    lab, provider, clock = make_lab(tmp_path, "2027-02-26 16:00")
    lab.bars("600519", start="2027-01-04", end="2027-02-26", adjust="")
    assert trade_date_calls(provider) == 1
    assert lab.stats()["upstream_calls"].get("fetch_trade_dates") == 1
    # Another kernel on the same cache, the same day: the stored list, no call.
    other = Lab(lab.cache_dir, provider=provider, clock=clock)
    other.bars("000001.SZ", start="2027-01-04", end="2027-02-26", adjust="")
    assert trade_date_calls(provider) == 1
    # Past the provider's own list (it ends with the current year): asked again at most once that day.
    with pytest.warns(CalendarBoundsWarning):
        other.calendar.sessions(d("2028-01-03"), d("2028-01-07"))
    with pytest.warns(CalendarBoundsWarning):
        Lab(lab.cache_dir, provider=provider, clock=clock).calendar.is_session(d("2028-01-04"))
    assert trade_date_calls(provider) == 1
    clock.current = at("2027-02-27 10:00")
    with pytest.warns(CalendarBoundsWarning):
        Lab(lab.cache_dir, provider=provider, clock=clock).calendar.is_session(d("2028-01-04"))
    assert trade_date_calls(provider) == 2


def test_no_trade_dates_call_for_a_read_inside_the_bundled_bound(tmp_path, strict):
    lab, provider, _ = make_lab(tmp_path, "2025-06-06 16:00")
    lab.bars(["600519", "000001.SZ"], start="2024-01-02", end="2025-06-06", adjust="qfq")
    lab.quality(["600519"], start="2024-01-02", end="2025-06-06")
    assert trade_date_calls(provider) == 0


@pytest.mark.skipif(not akshare_files.available(), reason="needs ../shared/data (real akshare files)")
def test_past_an_older_bundled_bound_the_real_trade_dates_give_the_real_sessions(tmp_path, strict):
    """An exchange-calendars release that stopped at 2025 (simulated by cutting 4.13's XSHG there), extended by
    akshare's real trade dates (Sina's list as akshare bundles it): 2026's sessions are exactly those of
    exchange-calendars 4.13 (an independent source), the 2026 Spring Festival (16-23 February) included, and a
    real series read through the Lab past the cut has no missing session flagged around it."""
    xshg = TradingCalendar.xshg()
    older = TradingCalendar.from_dates(xshg.sessions(d("1990-12-19"), d("2025-12-31")), source="XSHG to 2025")
    provider = ReplayProvider(akshare_files.AKSHARE_DIR, calendar_file=akshare_files.CALENDAR_FILE)
    clock = FixedClock(at("2026-08-07 16:00"))
    lab = Lab(tmp_path / "cache", provider=provider, clock=clock, calendar=older)
    extender = ProviderTradeDates(lab.cache_dir / "reference", provider, clock=clock,
                                  call=lambda family, fn, *args: fn(*args), stats=Stats())  # fmt: skip
    calendar = older.extended_by(extender)
    assert calendar.sessions(d("2026-01-01"), d("2026-12-31")) == xshg.sessions(d("2026-01-01"), d("2026-12-31"))
    assert not any(calendar.is_session(d("2026-02-16") + timedelta(days=k)) for k in range(8))
    lab = Lab(tmp_path / "cache", provider=provider, clock=clock, calendar=calendar)
    frame = lab.using(lab.mode.with_(on_quality_fail="ignore")).bars("000001.SZ", start="2026-01-26",
                                                                     end="2026-03-13", adjust="")  # fmt: skip
    assert frame["date"].min() <= d("2026-02-13") and frame["date"].max() >= d("2026-02-24")
    missing = lab.quality(frame).issues.filter(pl.col("check") == "missing_session")
    assert missing.is_empty(), missing


def test_the_next_session_inside_the_bound_does_not_look_past_it(strict):
    """Early December the next session is days away, inside the bound: asking for it is no reason to warn
    about (or fetch) the year after."""
    calendar = TradingCalendar.xshg()
    before_bound = BUNDLED_BOUND - timedelta(days=20)
    expected = next(day for day in (before_bound + timedelta(days=k) for k in range(1, 15))
                    if day.weekday() < 5 and calendar.is_session(day))  # fmt: skip
    assert calendar.next_session(before_bound) == expected
