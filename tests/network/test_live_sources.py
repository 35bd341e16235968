"""Live canary per daily-bar source (Eastmoney, Sina, Tencent): off by default, run with QUANTDB_LAB_LIVE=1 on a
networked machine (``-s`` prints the findings; QUANTDB_LAB_CANARY_OUT=<file> writes them as JSON). The first
online run settles what the offline fixtures could not:

* each source answers in the shape ``providers.akshare.bar_sources`` reads (columns, dtypes), per source;
* units: the three agree on unadjusted prices within rounding and on volume in shares once transformed, for a
  Shanghai stock and a Shenzhen ``000xxx`` stock (Tencent's volume left in lots by akshare there) and a STAR
  stock (Tencent's already in shares);
* how many sessions back each one goes for a stock listed in 1999 (history depth);
* the fallbacks of other kinds (``kind_sources``): an index (Sina's volume in shares, Tencent's ``amount`` as
  lots, Eastmoney's index volume taken as lots), an ETF (Sina's volume in units) and a HK stock agree with
  Eastmoney's answer once transformed.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import date

import pytest

from quantdb_lab.domain.symbols import parse_symbol
from quantdb_lab.providers.akshare import AkshareProvider
from quantdb_lab.providers.akshare.bar_sources import STOCK_BAR_SOURCES, bar_sources_for
from quantdb_lab.quality.sources import compare_sources

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.environ.get("QUANTDB_LAB_LIVE") != "1", reason="live canary: set QUANTDB_LAB_LIVE=1"),
]
SYMBOLS = [parse_symbol(c) for c in os.environ.get("QUANTDB_LAB_CANARY_SOURCES", "600000,000001,688981").split(",")]
OTHER_KINDS = [parse_symbol(c) for c in ("000300.SH", "399001.SZ", "510300.SH", "00700.HK")]
START, END = date(2024, 1, 2), date(2024, 3, 29)


@pytest.fixture(scope="module")
def findings():
    found: dict[str, object] = {"fetched": date.today().isoformat()}
    yield found
    print(json.dumps(found, indent=1, default=str))
    if os.environ.get("QUANTDB_LAB_CANARY_OUT"):
        with open(os.environ["QUANTDB_LAB_CANARY_OUT"], "w", encoding="utf-8") as out:
            json.dump(found, out, indent=1, default=str)


@pytest.mark.parametrize("symbol", SYMBOLS, ids=lambda s: s.canonical)
def test_every_source_agrees_with_eastmoney_on_prices_and_units(symbol, findings):
    provider = AkshareProvider(timeout=60)
    frames = {}
    with warnings.catch_warnings(record=True) as drift:
        warnings.simplefilter("always")
        for source in STOCK_BAR_SOURCES:
            frames[source.name] = provider.fetch_bars_from(source, symbol, START, END)
    findings[f"{symbol.canonical} drift"] = [str(w.message) for w in drift]
    base = frames["eastmoney"]
    assert base.height > 40
    for name, frame in frames.items():
        issues = compare_sources(base, frame, ours_name="eastmoney", theirs_name=name)
        findings[f"{symbol.canonical} {name}"] = {"rows": frame.height, "issues": issues["detail"].to_list()[:5]}
        assert issues.is_empty(), issues


def test_history_depth_of_each_source(findings):
    provider = AkshareProvider(timeout=120)
    symbol = parse_symbol("600000")  # listed 1999-11-10
    for source in STOCK_BAR_SOURCES:
        frame = provider.fetch_bars_from(source, symbol, date(1990, 1, 1), date(2001, 12, 31))
        findings[f"depth {source.name}"] = str(frame["date"].min()) if frame.height else None
        assert frame.height, f"{source.name} serves nothing before 2002"


@pytest.mark.parametrize("symbol", OTHER_KINDS, ids=lambda s: s.canonical)
def test_the_fallbacks_of_indices_etfs_and_hk_agree_with_eastmoney(symbol, findings):
    provider = AkshareProvider(timeout=60)
    sources = bar_sources_for(symbol)
    with warnings.catch_warnings(record=True) as drift:
        warnings.simplefilter("always")
        frames = {s.name: provider.fetch_bars_from(s, symbol, START, END) for s in sources}
    findings[f"{symbol.canonical} drift"] = [str(w.message) for w in drift]
    base = frames["eastmoney"]
    assert base.height > 40
    decimals = {s.name: s.upstream.price_decimals for s in sources}
    for name, frame in frames.items():
        issues = compare_sources(base, frame, ours_name="eastmoney", theirs_name=name,
                                 decimals=min(decimals["eastmoney"], decimals[name]))  # fmt: skip
        findings[f"{symbol.canonical} {name}"] = {"rows": frame.height, "amount": frame["amount"].null_count() == 0,
                                                  "issues": issues["detail"].to_list()[:5]}  # fmt: skip
        assert issues.is_empty(), issues
