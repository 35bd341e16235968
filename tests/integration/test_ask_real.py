"""lab.ask on real recorded data: the akshare daily files and names of ../shared/data/akshare_em_daily through
ReplayProvider (skipped when the folder is absent). Values are checked against the CSV files read here."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest

from quantdb_lab.domain.clock import EXCHANGE_TZ, FixedClock
from quantdb_lab.lab import Lab
from quantdb_lab.providers.akshare.replay import ReplayProvider

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
DAILY = DATA / "akshare_em_daily"
pytestmark = pytest.mark.skipif(not (DAILY / "stock_names.csv").exists(), reason="../shared/data is absent")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    clock = FixedClock(datetime(2026, 8, 12, 16, 0, tzinfo=EXCHANGE_TZ))
    provider = ReplayProvider(DAILY, calendar_file=DATA / "calendar" / "akshare_calendar.json")
    return Lab(tmp_path_factory.mktemp("real") / "cache", provider=provider, clock=clock)


def _closes(code: str, start: date, end: date) -> list[float]:
    start = max(start, date(2026, 1, 27))  # the replay serves the unadjusted rows only (before: Eastmoney qfq)
    with (DAILY / "stock_data" / f"{code}.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if start <= date.fromisoformat(r["\u65e5\u671f"]) <= end]
    return [float(r["\u6536\u76d8"]) for r in sorted(rows, key=lambda r: r["\u65e5\u671f"])]


def test_a_drawdown_asked_in_chinese_on_a_real_name(lab):
    answer = lab.ask("\u5e73\u5b89\u94f6\u884c\u4eca\u5e74\u4ee5\u6765\u7684\u6700\u5927\u56de\u64a4", planner="rules")
    assert answer.ok and answer.plan.symbols == ("000001.SZ",) and answer.plan.metric == "drawdown"
    closes = _closes("000001", date(2026, 1, 1), date(2026, 8, 12))
    peak, worst = closes[0], 0.0
    for close in closes:
        peak = max(peak, close)
        worst = max(worst, 1 - close / peak)
    assert answer.data["value"][0] == pytest.approx(worst)
    assert answer.data["bars"][0] == len(closes)


def test_pinyin_initials_and_a_typo_on_the_recorded_master(lab):
    answer = lab.ask("payh\u4eca\u5e74\u7684\u6da8\u5e45", planner="rules")  # pinyin initials + this year's return
    assert answer.ok and answer.plan.symbols == ("000001.SZ",)
    assert any("pinyin initials" in a for a in answer.assumptions), answer.assumptions
    closes = _closes("000001", date(2026, 1, 1), date(2026, 8, 12))
    assert answer.data["value"][0] == pytest.approx(closes[-1] / closes[0] - 1, rel=1e-9)
    typo = lab.ask("\u5e73\u5b89\u94f6\u5f62\u4eca\u5e74\u7684\u6da8\u5e45", planner="rules")  # a wrong last character
    assert typo.ok and typo.plan.symbols == ("000001.SZ",) and any("one edit" in a for a in typo.assumptions)
