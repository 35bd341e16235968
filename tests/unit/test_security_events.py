"""Security events: a copy stored before ``former_name`` existed still merges with a fresh fetch and still
answers ``securities_as_of`` (expected values written by hand)."""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.datasets import SECURITY_HISTORY
from quantdb_lab.domain.master import securities_as_of
from quantdb_lab.domain.pit import SECURITY_EVENTS
from quantdb_lab.domain.schema import SECURITIES
from quantdb_lab.loader.dataset_rows import merge_answer

OLD_COLUMNS = {k: v for k, v in SECURITY_EVENTS.items() if k != "former_name"}
OLD = pl.DataFrame({"symbol": ["600001.SH"] * 2, "date": [date(1998, 1, 22), date(2009, 12, 29)],
                    "event": ["listed", "delisted"], "name": ["邯郸钢铁"] * 2, "board": ["main"] * 2,
                    "industry": [None] * 2}, schema=OLD_COLUMNS)  # fmt: skip
FRESH = pl.DataFrame({"symbol": ["000040.SZ"], "date": [date(2021, 5, 6)], "event": ["st"], "name": ["ST东旭"],
                      "board": ["main"], "industry": [None], "former_name": ["东旭蓝天"]}, schema=SECURITY_EVENTS)  # fmt: skip
TODAY = pl.DataFrame({"symbol": ["000040.SZ"], "name": ["东旭蓝天"], "industry": [None], "board": ["main"],
                      "list_date": [None]}, schema=SECURITIES)  # fmt: skip


def test_a_copy_stored_without_former_names_merges_with_a_fresh_fetch():
    merged = merge_answer(SECURITY_HISTORY, OLD, FRESH)
    assert merged.columns == list(SECURITY_EVENTS)
    assert merged.select("symbol", "former_name").rows() == [("600001.SH", None), ("600001.SH", None),
                                                            ("000040.SZ", "东旭蓝天")]


def test_the_old_copy_alone_still_answers_the_market_of_a_day():
    master = securities_as_of(TODAY, OLD, date(2005, 1, 4))
    assert master.select("symbol", "name", "is_st").rows() == [("000040.SZ", "东旭蓝天", False),
                                                               ("600001.SH", "邯郸钢铁", False)]  # fmt: skip


# -- the risk-warning board's snapshots: ST evidence from the day each was captured ---------------------------
def board(*snapshots: tuple[date, list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [(day, symbol, name) for day, members in snapshots for symbol, name in members]
    return pl.DataFrame(rows, schema=["date", "symbol", "name"], orient="row")


SSE_TODAY = pl.DataFrame({"symbol": ["600289.SH", "600519.SH"], "name": ["ST信通", "贵州茅台"], "industry": [None] * 2,
                          "board": ["main"] * 2, "list_date": [None] * 2}, schema=SECURITIES)  # fmt: skip
NO_EVENTS = pl.DataFrame(schema=SECURITY_EVENTS)
CAPTURED = board((date(2026, 3, 2), [("600519.SH", "贵州茅台")]), (date(2026, 3, 3), []),
                 (date(2026, 3, 4), [("600289.SH", "ST信通")]), (date(2026, 3, 5), [("600289.SH", "ST信通")]))


def st_of(day: date, snapshots: pl.DataFrame, symbol: str = "600289.SH") -> tuple:
    row = securities_as_of(SSE_TODAY, NO_EVENTS, day, st_board=snapshots).filter(pl.col("symbol") == symbol)
    return row.select("is_st", "st_since").row(0)


def test_a_stock_on_the_board_is_st_from_the_first_capture_of_its_current_run():
    assert st_of(date(2026, 3, 6), CAPTURED) == (True, date(2026, 3, 4))
    assert st_of(date(2026, 3, 4), CAPTURED) == (True, date(2026, 3, 4))


def test_off_the_board_on_the_latest_capture_is_not_st_whatever_todays_name():
    assert st_of(date(2026, 3, 3), CAPTURED) == (False, None)  # today's "ST" name is not that day's evidence
    assert st_of(date(2026, 3, 2), CAPTURED, "600519.SH") == (True, date(2026, 3, 2))
    assert st_of(date(2026, 3, 5), CAPTURED, "600519.SH") == (False, None)


def test_before_the_first_capture_the_board_says_nothing():
    assert st_of(date(2026, 3, 1), CAPTURED) == (True, None)  # today's name, as without a board


def test_a_later_dated_event_outweighs_an_older_capture():
    events = pl.DataFrame({"symbol": ["600289.SH"], "date": [date(2026, 3, 10)], "event": ["st_removed"],
                           "name": ["信通"], "board": ["main"], "industry": [None], "former_name": ["ST信通"]},
                          schema=SECURITY_EVENTS)  # fmt: skip
    row = securities_as_of(SSE_TODAY, events, date(2026, 3, 11), st_board=CAPTURED).filter(pl.col("symbol") == "600289.SH")
    assert row.select("name", "is_st").row(0) == ("信通", False)
