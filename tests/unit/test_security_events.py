"""Security events: a copy stored before ``former_name`` existed still merges with a fresh fetch and still
answers ``securities_as_of`` (expected values written by hand)."""

from __future__ import annotations

from datetime import date

import polars as pl

from quantdb_lab.domain.datasets import SECURITY_HISTORY
from quantdb_lab.domain.master import securities_as_of
from quantdb_lab.domain.pit import SECURITY_EVENTS
from quantdb_lab.domain.schema import SECURITIES
from quantdb_lab.loader.dataset_loader import _merge

OLD_COLUMNS = {k: v for k, v in SECURITY_EVENTS.items() if k != "former_name"}
OLD = pl.DataFrame({"symbol": ["600001.SH"] * 2, "date": [date(1998, 1, 22), date(2009, 12, 29)],
                    "event": ["listed", "delisted"], "name": ["邯郸钢铁"] * 2, "board": ["main"] * 2,
                    "industry": [None] * 2}, schema=OLD_COLUMNS)  # fmt: skip
FRESH = pl.DataFrame({"symbol": ["000040.SZ"], "date": [date(2021, 5, 6)], "event": ["st"], "name": ["ST东旭"],
                      "board": ["main"], "industry": [None], "former_name": ["东旭蓝天"]}, schema=SECURITY_EVENTS)  # fmt: skip
TODAY = pl.DataFrame({"symbol": ["000040.SZ"], "name": ["东旭蓝天"], "industry": [None], "board": ["main"],
                      "list_date": [None]}, schema=SECURITIES)  # fmt: skip


def test_a_copy_stored_without_former_names_merges_with_a_fresh_fetch():
    merged = _merge(SECURITY_HISTORY, OLD, FRESH)
    assert merged.columns == list(SECURITY_EVENTS)
    assert merged.select("symbol", "former_name").rows() == [("600001.SH", None), ("600001.SH", None),
                                                            ("000040.SZ", "东旭蓝天")]


def test_the_old_copy_alone_still_answers_the_market_of_a_day():
    master = securities_as_of(TODAY, OLD, date(2005, 1, 4))
    assert master.select("symbol", "name", "is_st").rows() == [("000040.SZ", "东旭蓝天", False),
                                                               ("600001.SH", "邯郸钢铁", False)]  # fmt: skip
