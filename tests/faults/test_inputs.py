"""Bad input (issue 17.12): every malformed argument is an InvalidRequestError (or its subclass) naming the
argument, dates parse strictly, timezone-aware moments are read in exchange time, and nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from quantdb_lab.errors import InvalidRequestError
from tests.support.sim import calls, d, make_lab


@pytest.fixture
def lab(tmp_path):
    return make_lab(tmp_path)



@pytest.mark.parametrize("symbols", [None, 123, [["600519"]], 6.5, b"600519"])
def test_a_symbol_argument_of_the_wrong_type_is_named(lab, fault, symbols):
    lab, provider, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="symbol"):
        lab.bars(symbols, start="2024-01-02", end="2024-01-31")
    assert calls(provider) == 0


@pytest.mark.parametrize("start", [pd.NaT, float("nan"), 20240102])
def test_a_start_that_is_not_a_date_is_named(lab, fault, start):
    lab, provider, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="start"):
        lab.bars("600519", start=start, end="2024-01-31")
    assert calls(provider) == 0


@pytest.mark.parametrize("text", ["2024-01-015", "2024-1-5x", "2024-13-01", "20240230", "2024-01-01junk"])
def test_dates_parse_strictly(lab, fault, text):
    lab, provider, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="start"):
        lab.bars("600519", start=text, end="2024-02-28")
    assert calls(provider) == 0


def test_a_timezone_aware_moment_is_read_in_exchange_time(lab):
    lab, _, _ = lab
    # 20:00 UTC on 2024-01-02 is 04:00 on 2024-01-03 in Shanghai: the read starts on the 3rd, not the 2nd
    moment = datetime(2024, 1, 2, 20, 0, tzinfo=timezone.utc)
    frame = lab.bars("600519", start=moment, end="2024-01-10", adjust="")
    assert frame["date"].min() == d("2024-01-03")
    naive = lab.bars("600519", start=moment.replace(tzinfo=None), end="2024-01-10", adjust="")
    assert naive["date"].min() == d("2024-01-02")  # a naive moment is already exchange time


def test_pandas_timestamps_are_dates_too(lab):
    lab, _, _ = lab
    frame = lab.bars("600519", start=pd.Timestamp("2024-01-03"), end=pd.Timestamp("2024-01-10"), adjust="")
    assert frame["date"].min() == d("2024-01-03") and frame["date"].max() <= d("2024-01-10")


@pytest.mark.parametrize("weight", ["abc", None, float("inf"), -1, [0.5]])
def test_a_bad_portfolio_weight_is_named(lab, fault, weight):
    lab, provider, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="weight"):
        lab.portfolio({"600519": weight, "000001": 0.5}, start="2024-01-02", end="2024-01-31", progress=False)
    assert calls(provider) == 0


def test_a_symbol_given_twice_with_weights_is_refused_not_kept_last(lab, fault):
    lab, provider, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="600519.SH"):
        lab.portfolio({"600519": 0.5, "600519.SH": 0.3, "000001": 0.2}, start="2024-01-02", end="2024-01-31",
                      progress=False)  # fmt: skip
    assert calls(provider) == 0


def test_feedback_on_an_unknown_check_is_refused_with_the_known_ones(lab, fault):
    lab, _, _ = lab
    fault.inject()
    with pytest.raises(InvalidRequestError, match="missing_session"):  # the nearest known check is suggested
        lab.feedback("600519", "missing_sesion", "2024-01-03")
    assert lab.feedback_log().is_empty()
    assert lab.feedback("600519", "missing_session", "2024-01-03").height == 1


@pytest.mark.parametrize("code", [pytest.param("A" * 5000, id="5000-chars"), "../etc", "", "SC 0", "原油"])
def test_a_malformed_commodity_code_is_refused_before_the_cache(lab, fault, tmp_path, code):
    lab, provider, _ = lab
    fault.inject()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidRequestError, match="commodity"):
        lab.reference.commodity_daily(code)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_well_formed_commodity_code_is_served(lab):
    lab, _, _ = lab
    frame = lab.reference.commodity_daily("sc0", end=d("2024-06-28"))
    assert frame.height > 0 and frame["date"].max() <= d("2024-06-28")
    assert frame["date"].min() >= d("2024-06-28") - timedelta(days=3650 * 3)
