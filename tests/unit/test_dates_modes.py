from datetime import date, timedelta

import pytest

from quantdb_lab.domain.dates import parse_date, parse_range
from quantdb_lab.domain.modes import BACKTESTING, RESEARCH, TRADING, ContextMode, detect_mode, resolve_mode
from quantdb_lab.errors import InvalidDateRangeError, InvalidRequestError


@pytest.mark.parametrize("text", ["2024-01-31", "20240131", "2024/01/31", date(2024, 1, 31)])
def test_parse_date(text):
    assert parse_date(text) == date(2024, 1, 31)


def test_bad_dates():
    with pytest.raises(InvalidDateRangeError):
        parse_date("2024-13-01")
    with pytest.raises(InvalidDateRangeError):
        parse_range("2024-02-01", "2024-01-01")


def test_mode_defaults_match_the_spec():
    assert (RESEARCH.cache_duration, RESEARCH.prefetch_related, RESEARCH.quality_threshold) == (timedelta(hours=1), True, 0.99)
    assert (TRADING.cache_duration, TRADING.prefetch_related, TRADING.quality_threshold) == (timedelta(minutes=1), False, 0.999)
    assert (BACKTESTING.cache_duration, BACKTESTING.prefetch_related, BACKTESTING.quality_threshold) == (timedelta(hours=24), True, 0.95)


def test_modes_are_frozen_data():
    with pytest.raises(Exception):
        RESEARCH.cache_duration = timedelta(0)  # type: ignore[misc]
    cut = BACKTESTING.with_(as_of=date(2024, 6, 28))
    assert cut.as_of == date(2024, 6, 28) and BACKTESTING.as_of is None
    assert resolve_mode("trading") is TRADING
    with pytest.raises(InvalidRequestError):
        resolve_mode("yolo")
    with pytest.raises(InvalidRequestError):
        ContextMode(name="x", cache_duration=timedelta(0), prefetch_related=False, quality_threshold=2.0,
                    price_adjust="", on_provider_error="raise")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"market_open": True, "realtime": True}, "trading"),
        ({"market_open": False, "realtime": True}, "research"),
        ({"market_open": True, "span_days": 3650, "symbol_count": 300}, "backtesting"),
        ({"market_open": False, "as_of": date(2024, 1, 5)}, "backtesting"),
        ({"market_open": False, "span_days": 30, "symbol_count": 2}, "research"),
    ],
)
def test_detect_mode_says_why(kwargs, expected):
    decision = detect_mode(**kwargs)
    assert decision.mode.name == expected
    assert decision.reasons and all(isinstance(r, str) and r for r in decision.reasons)
