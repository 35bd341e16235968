"""The akshare drop-in and the quantdb-lab command."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from quantdb_lab import compat
from quantdb_lab.cli import main
from quantdb_lab.errors import InvalidRequestError
from tests.support.sim import MARKET, at, calls, d, make_lab

AKSHARE_COLUMNS = ["日期", "股票代码", "开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅", "涨跌幅", "涨跌额", "换手率"]


def test_compat_returns_akshare_columns_and_units(tmp_path):
    lab, provider, _ = make_lab(tmp_path)
    frame = compat.stock_zh_a_hist("600519", "daily", "20240102", "20240131", "", lab=lab)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == AKSHARE_COLUMNS
    truth = MARKET.bars("600519.SH", d("2024-01-02"), d("2024-01-31"), now=at("2025-06-06 16:00"))
    assert frame["收盘"].tolist() == truth["close"].to_list()
    assert frame["成交量"].tolist() == [round(v / 100) for v in truth["volume"].to_list()]  # lots
    assert frame["换手率"].iloc[0] == pytest.approx(truth["turnover"][0] * 100)  # percent
    assert (frame["股票代码"] == "600519").all()
    weekly = compat.stock_zh_a_hist("600519", "weekly", "20240102", "20240131", "", lab=lab)
    assert len(weekly) == 5 and calls(provider) == 1  # derived, not fetched: QuantDB returned daily rows here
    with pytest.raises(InvalidRequestError):
        compat.stock_zh_a_hist("600519", "hourly", lab=lab)


def test_cli_fetch_stats_clear(tmp_path, capsys):
    cache = str(tmp_path / "c")
    base = ["--cache-dir", cache, "--provider", "simulated"]
    out_file = tmp_path / "out.csv"
    assert main([*base, "fetch", "600519", "000001", "--start", "2024-01-02", "--end", "2024-01-31", "--adjust", "", "-o", str(out_file)]) == 0
    assert "600519.SH" in capsys.readouterr().out and out_file.read_text().count("\n") > 20
    assert main([*base, "stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["series"] == 2 and stats["provider"] == "simulated"
    assert main([*base, "clear", "600519"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert main([*base, "fetch", "abc"]) == 2
    assert "InvalidSymbolError" in capsys.readouterr().err


def test_cli_demo_runs_offline(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "quantdb_lab.cli", "--cache-dir", str(tmp_path), "demo", "--latency", "0"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    assert "warm re-read" in result.stdout and "upstream calls by function" in result.stdout
