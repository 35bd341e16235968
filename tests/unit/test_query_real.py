"""The parser and the sector taxonomy on the real A-share security master: the 5,448 names of akshare's code
list (padded, full-width letters) and Tushare's 110 industries, from ../shared/data (skipped when absent)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from quantdb_lab.query import RuleParser
from quantdb_lab.query.names import name_index
from quantdb_lab.query.sectors import taxonomy
from quantdb_lab.query.vocabulary import vocabulary

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NAMES = DATA / "akshare_em_daily" / "stock_names.csv"
INDUSTRIES = DATA / "tushare_qfq_daily" / "stocklist.csv"
SHENWAN = DATA / "reference" / "baostock_sw_industry_2023-03-20.gbk.csv"
SET = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "query" / "real_names.json").read_text("utf-8"))
pytestmark = pytest.mark.skipif(not NAMES.exists() or not INDUSTRIES.exists(), reason="../shared/data is absent")


def _suffix(code: str) -> str:
    return ".SH" if code.startswith(("6", "9")) else ".BJ" if code.startswith(("4", "8")) else ".SZ"


@pytest.fixture(scope="module")
def listed():
    with NAMES.open(encoding="utf-8-sig") as handle:
        return sorted((row["code"] + _suffix(row["code"]), row["name"]) for row in csv.DictReader(handle))


@pytest.fixture(scope="module")
def parser(listed):
    return RuleParser(today=date(2025, 6, 6), index=name_index(listed, vocabulary().companies))


def test_the_master_is_the_real_one(listed):
    assert len(listed) == 5448 and any("\u3000" in n or "  " in n or "\uff21" in n for _, n in listed)


def test_questions_on_real_names_get_the_expected_plan(parser):
    misses = []
    for item in SET["questions"]:
        plan = parser.parse(item["q"]).plan
        got = plan.to_dict() if plan else {}
        if any(got.get(k) != v for k, v in item["plan"].items()):
            misses.append((item["q"], got or parser.parse(item["q"]).problems))
    assert 1 - len(misses) / len(SET["questions"]) >= 0.95, misses


def test_padded_and_full_width_names_are_found(parser):
    for text, symbol in (("\u4e07  \u79d1\uff21\u4eca\u5e74\u8d70\u52bf", "000002.SZ"), ("\u67f3\u5de5\u4eca\u5e74\u8d70\u52bf", "000528.SZ")):
        plan = parser.parse(text).plan
        assert plan is not None and plan.symbols == (symbol,)


def test_the_index_is_built_once_per_master_content(listed):
    aliases = vocabulary().companies
    first = name_index(listed, aliases)
    assert name_index(list(listed), dict(aliases)) is first  # equal content, other objects: the same index
    assert name_index(listed[:-1], aliases) is not first


def test_every_real_industry_belongs_to_a_sector_key():
    tushare = {row["industry"] for row in csv.DictReader(INDUSTRIES.open(encoding="utf-8")) if row["industry"]}
    names = {n for e in taxonomy().sectors.values() for n in e["industries"]}
    assert len(tushare) == 110
    unmapped = sorted(tushare - names)
    assert len(unmapped) <= 1, unmapped  # one catch-all ("conglomerates") has no sector
    if SHENWAN.exists():
        shenwan = {row["industry"] for row in csv.DictReader(SHENWAN.open(encoding="gbk")) if row["industry"]}
        assert len(shenwan - names) <= 1, sorted(shenwan - names)


def test_sector_members_on_the_real_industries():
    rows = list(csv.DictReader(INDUSTRIES.open(encoding="utf-8")))
    industries = sorted({r["industry"] for r in rows if r["industry"]})
    coal = taxonomy().members("coal", industries)
    assert coal is not None and not coal.broader
    # the coal industries as Tushare names them, read off the file: mining and coking
    expected = {r["industry"] for r in rows if r["industry"] and ("\u7164" in r["industry"] or "\u7126" in r["industry"])}
    assert set(coal.industries) == expected
    airlines = taxonomy().members("airlines", industries)
    assert airlines is not None and "\u822a\u7a7a" not in airlines.industries  # aircraft makers are defence, not airlines
    frame = pl.DataFrame({"industry": [r["industry"] for r in rows]})
    assert frame.filter(pl.col("industry").is_in(coal.industries)).height >= 20
